package schemagen

import (
	"fmt"
	"reflect"

	"github.com/invopop/jsonschema"

	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/internal/rules"
)

const draft = "https://json-schema.org/draft/2020-12/schema"

// envelope is the document of the CloudEvents attributes, from Envelope's
// fields and `check` tags, plus what the decoder enforces beyond them.
func envelope(r *jsonschema.Reflector, b rules.Bounds) (*jsonschema.Schema, error) {
	s, err := reflectWithRules(r, reflect.TypeFor[schemas.Envelope](), b)
	if err != nil {
		return nil, fmt.Errorf("schema of the envelope: %w", err)
	}
	s.ID = jsonschema.ID(BaseURI + EnvelopeFile)
	s.Title = "Tributary CloudEvents envelope"
	s.Comments = "Generated from the Go type schemas.Envelope; do not edit. " + RegenerateHint + "."
	s.Description = "One event in CloudEvents 1.0 structured mode (JSON lines); in binary mode the same " +
		"attributes travel as message headers and data is the body. " + EventFile + " adds, by type, the schema " +
		"version and the payload document. Lengths state the default limits. Not expressible here: the whole " +
		fmt.Sprintf("event may be at most %d bytes, and consumers reject a time more than %s before or %s after their clock.",
			schemas.DefaultLimits().MaxEventSize, schemas.DefaultLimits().MaxPast, schemas.DefaultLimits().MaxFuture)

	typ, _ := s.Properties.Get("type")
	for _, info := range schemas.Types() {
		typ.Enum = append(typ.Enum, info.Type)
	}
	typ.MinLength, typ.MaxLength = nil, nil // the enum says it all
	// The reflector sees json.RawMessage as bytes; the payload is a JSON object.
	data, _ := s.Properties.Get("data")
	*data = jsonschema.Schema{Type: "object", Description: "The payload: the document of the event's type."}
	// UnmarshalStructured refuses binary data: our payloads are JSON.
	s.Properties.Set("data_base64", jsonschema.FalseSchema)
	return s, nil
}

// event combines the envelope with each type's payload: if the type is T,
// then schemaversion is T's version and data is T's document.
func event() *jsonschema.Schema {
	s := &jsonschema.Schema{
		Version:  draft,
		ID:       jsonschema.ID(BaseURI + EventFile),
		Comments: "Generated from the schemas registry; do not edit. " + RegenerateHint + ".",
		Title:    "Tributary event",
		Description: "A whole event: the envelope (" + EnvelopeFile + ") and, for its type, the schema version " +
			"and the payload document. Validate each JSON line a producer writes against this document.",
		AllOf: []*jsonschema.Schema{{Ref: EnvelopeFile}},
	}
	for _, info := range schemas.Types() {
		cond := jsonschema.NewProperties()
		cond.Set("type", &jsonschema.Schema{Const: info.Type})
		then := jsonschema.NewProperties()
		then.Set("schemaversion", &jsonschema.Schema{Const: info.SchemaVersion})
		then.Set("data", &jsonschema.Schema{Ref: FileName(info.Type)})
		s.AllOf = append(s.AllOf, &jsonschema.Schema{
			If:   &jsonschema.Schema{Properties: cond, Required: []string{"type"}},
			Then: &jsonschema.Schema{Properties: then},
		})
	}
	return s
}
