// Package schemagen generates the JSON Schema documents of the event payloads
// and of the envelope from their Go types and checks two generations for
// breaking changes. The structure and descriptions come from the types; every
// constraint comes from the types' `check` tags through internal/rules, the
// same declarations the validator reads. It is internal so that only the
// generator and tests pull in invopop/jsonschema, not every module that
// imports schemas.
package schemagen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/invopop/jsonschema"

	"github.com/tributary-io/tributary/schemas"
)

// ModulePath is the import path of the schemas module; doc comments are
// looked up under it.
const ModulePath = "github.com/tributary-io/tributary/schemas"

// SchemaVersionKey is the document keyword holding the type's schema version;
// the compatibility test compares only documents of equal version.
const SchemaVersionKey = "x-tributary-schema-version"

// RegenerateHint tells a developer how to fix a drift.
const RegenerateHint = "run `go generate ./...` in schemas/ and commit jsonschema/"

// BaseURI is where the documents are published; their $ids and $refs are
// relative to it.
const BaseURI = "https://schemas.tributary.io/"

// The two documents that are not one event type's payload.
const (
	// EnvelopeFile is the CloudEvents envelope: the attributes and their rules.
	EnvelopeFile = "envelope.json"
	// EventFile is a whole event: the envelope and, by type, its schema
	// version and payload document. It is what a producer validates against.
	EventFile = "event.json"
)

// FileName is the document name of an event type, "<type>.json".
func FileName(eventType string) string { return eventType + ".json" }

// Generate returns one document per registered event type plus EnvelopeFile
// and EventFile, keyed by file name. srcDir is the schemas module directory;
// field and type doc comments found there become descriptions.
func Generate(srcDir string) (map[string][]byte, error) {
	r := &jsonschema.Reflector{
		// Self-contained documents (no $defs) are simpler for other
		// languages' tooling and for the compatibility check.
		ExpandedStruct: true,
		DoNotReference: true,
		// Readers ignore unknown fields so producers may add optional ones
		// within a schema version; the documents must say the same.
		AllowAdditionalProperties: true,
	}
	if err := r.AddGoComments(ModulePath, srcDir); err != nil {
		return nil, fmt.Errorf("read doc comments in %s: %w", srcDir, err)
	}
	b := boundsOf(schemas.DefaultLimits())
	out := map[string][]byte{}
	for _, info := range schemas.Types() {
		s, err := reflectWithRules(r, info.GoType, b)
		if err != nil {
			return nil, fmt.Errorf("schema of %s: %w", info.Type, err)
		}
		s.ID = jsonschema.ID(BaseURI + FileName(info.Type))
		s.Title = info.Type
		s.Comments = "Generated from the Go type schemas." + info.GoType.Name() + "; do not edit. " + RegenerateHint +
			". This is the data of one event type; " + EventFile + " is the whole event."
		s.Extras = map[string]any{SchemaVersionKey: info.SchemaVersion}
		if err := put(out, FileName(info.Type), s); err != nil {
			return nil, err
		}
	}
	env, err := envelope(r, b)
	if err != nil {
		return nil, err
	}
	if err := put(out, EnvelopeFile, env); err != nil {
		return nil, err
	}
	if err := put(out, EventFile, event()); err != nil {
		return nil, err
	}
	return out, nil
}

func put(out map[string][]byte, name string, s *jsonschema.Schema) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return fmt.Errorf("marshal %s: %w", name, err)
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("indent %s: %w", name, err)
	}
	buf.WriteByte('\n')
	out[name] = buf.Bytes()
	return nil
}

// Write replaces the documents in dir with docs, removing documents of event
// types that no longer exist so the directory mirrors the registry.
func Write(dir string, docs map[string][]byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	existing, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return fmt.Errorf("list %s: %w", dir, err)
	}
	for _, p := range existing {
		if _, keep := docs[filepath.Base(p)]; !keep {
			if err := os.Remove(p); err != nil {
				return fmt.Errorf("remove stale %s: %w", p, err)
			}
		}
	}
	names := make([]string, 0, len(docs))
	for name := range docs {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := os.WriteFile(filepath.Join(dir, name), docs[name], 0o644); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
	}
	return nil
}

// Read loads every document of dir, keyed by file name.
func Read(dir string) (map[string][]byte, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	out := map[string][]byte{}
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", p, err)
		}
		out[filepath.Base(p)] = b
	}
	return out, nil
}

// SchemaVersionOf returns a document's SchemaVersionKey value.
func SchemaVersionOf(doc []byte) (string, error) {
	var d map[string]any
	if err := json.Unmarshal(doc, &d); err != nil {
		return "", fmt.Errorf("parse document: %w", err)
	}
	v, _ := d[SchemaVersionKey].(string)
	if strings.TrimSpace(v) == "" {
		return "", fmt.Errorf("document has no %s", SchemaVersionKey)
	}
	return v, nil
}
