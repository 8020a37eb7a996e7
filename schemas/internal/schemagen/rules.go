package schemagen

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"

	"github.com/invopop/jsonschema"

	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/internal/rules"
)

// boundsOf states the default limits in the documents; a deployment may set
// others, which its producers then need to know.
func boundsOf(l schemas.Limits) rules.Bounds {
	return rules.Bounds{String: l.MaxStringLen, Text: l.MaxTextLen, ListItems: l.MaxListItems, MapEntries: l.MaxMapEntries}
}

// reflectWithRules reflects t for structure and descriptions, then writes
// the rules of its `check` tags into it.
func reflectWithRules(r *jsonschema.Reflector, t reflect.Type, b rules.Bounds) (*jsonschema.Schema, error) {
	fields, err := rules.Plan(t)
	if err != nil {
		return nil, err
	}
	s := r.ReflectFromType(t)
	if err := applyRules(s, fields, b); err != nil {
		return nil, err
	}
	return s, nil
}

// applyRules sets each property's keywords and replaces the required list
// that the reflector derived from omitempty: a document requires a field
// exactly when the validator rejects its absence.
func applyRules(s *jsonschema.Schema, fields []rules.Field, b rules.Bounds) error {
	s.Required = nil
	for _, f := range fields {
		p, ok := s.Properties.Get(f.Name)
		if !ok {
			return fmt.Errorf("no property %q for a rule", f.Name)
		}
		if f.SchemaRequired() {
			s.Required = append(s.Required, f.Name)
		}
		if f.Kind == rules.Object || f.Kind == rules.OptionalObject {
			if err := applyRules(p, f.Fields, b); err != nil {
				return fmt.Errorf("%s: %w", f.Name, err)
			}
			continue
		}
		setKeywords(p, f.Keywords(b))
	}
	return nil
}

func setKeywords(s *jsonschema.Schema, k rules.Keywords) {
	s.MinLength, s.MaxLength = k.MinLength, k.MaxLength
	s.Pattern = k.Pattern
	switch len(k.Formats) {
	case 0:
	case 1:
		s.Format = k.Formats[0]
	default:
		for _, f := range k.Formats {
			s.AnyOf = append(s.AnyOf, &jsonschema.Schema{Format: f})
		}
	}
	for _, p := range k.Not {
		s.AllOf = append(s.AllOf, &jsonschema.Schema{Not: &jsonschema.Schema{Pattern: p}})
	}
	for _, v := range k.Enum {
		s.Enum = append(s.Enum, v)
	}
	if k.Const != "" {
		s.Const = k.Const
	}
	s.Minimum, s.Maximum = number(k.Minimum), number(k.Maximum)
	s.MaxItems, s.UniqueItems = k.MaxItems, k.UniqueItems
	if k.Items != nil && s.Items != nil {
		setKeywords(s.Items, *k.Items)
	}
	s.MaxProperties = k.MaxProperties
	if k.PropertyNames != nil {
		s.PropertyNames = &jsonschema.Schema{}
		setKeywords(s.PropertyNames, *k.PropertyNames)
	}
	if k.Values != nil && s.AdditionalProperties != nil {
		setKeywords(s.AdditionalProperties, *k.Values)
	}
	if k.NotBefore != "" {
		if s.Extras == nil {
			s.Extras = map[string]any{}
		}
		s.Extras[rules.NotBeforeKeyword] = k.NotBefore
	}
	if k.Note != "" {
		if s.Description != "" {
			s.Description += ". "
		}
		s.Description += k.Note
	}
}

func number(f *float64) json.Number {
	if f == nil {
		return ""
	}
	return json.Number(strconv.FormatFloat(*f, 'f', -1, 64))
}
