package schemas_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/schemas/internal/schemagen"
)

func generate(t *testing.T) map[string][]byte {
	t.Helper()
	docs, err := schemagen.Generate(".")
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// TestJSONSchemaUpToDate fails when jsonschema/ no longer matches the Go types.
func TestJSONSchemaUpToDate(t *testing.T) {
	want := generate(t)
	got, err := schemagen.Read("jsonschema")
	if err != nil {
		t.Fatal(err)
	}
	for name, doc := range want {
		if !bytes.Equal(got[name], doc) {
			t.Errorf("jsonschema/%s is missing or stale: %s", name, schemagen.RegenerateHint)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("jsonschema/%s belongs to no registered type: %s", name, schemagen.RegenerateHint)
		}
	}
}

// TestJSONSchemaCompatible fails when the current types would break readers
// of the last released schemas (testdata/compat/v1). A type whose schema
// version was bumped is exempt: the bump is how a breaking change is declared.
func TestJSONSchemaCompatible(t *testing.T) {
	cur := generate(t)
	prev, err := schemagen.Read(filepath.Join("testdata", "compat", "v1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(prev) == 0 {
		t.Fatal("no snapshot in testdata/compat/v1")
	}
	names := make([]string, 0, len(prev))
	for name := range prev {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		doc, ok := cur[name]
		if !ok {
			t.Errorf("%s: event type removed; readers of v1 still expect it", name)
			continue
		}
		pv, err := schemagen.SchemaVersionOf(prev[name])
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cv, err := schemagen.SchemaVersionOf(doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if pv != cv {
			t.Logf("%s: schema version %s -> %s, compatibility not required", name, pv, cv)
			continue
		}
		problems, err := schemagen.Breaking(prev[name], doc)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for _, p := range problems {
			t.Errorf("%s: breaking change for v%s readers: %s (make it optional/additive, or bump the schema version)", name, pv, p)
		}
	}
}

type schemaNode struct {
	Type       string                 `json:"type"`
	Properties map[string]*schemaNode `json:"properties"`
	Required   []string               `json:"required"`
	Enum       []string               `json:"enum"`
}

// TestValidateAgreesWithJSONSchema checks the Go validation against the
// generated documents: dropping any required field of a fixture, or setting
// an enum to a value outside the schema, must fail; every enum value the
// schema lists must pass. Numbers and booleans are skipped because JSON
// decoding cannot tell a missing number from zero.
func TestValidateAgreesWithJSONSchema(t *testing.T) {
	docs := generate(t)
	for _, info := range schemas.Types() {
		var root schemaNode
		if err := json.Unmarshal(docs[schemagen.FileName(info.Type)], &root); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join("testdata", info.Type+".json"))
		if err != nil {
			t.Fatal(err)
		}
		env, err := schemas.UnmarshalStructured(b)
		if err != nil {
			t.Fatal(err)
		}
		check := func(path []string, edit func(m map[string]any), wantValid bool) {
			var data map[string]any
			if err := json.Unmarshal(env.Data, &data); err != nil {
				t.Fatal(err)
			}
			edit(data)
			e := env
			e.Data, _ = json.Marshal(data)
			err := schemas.Validate(e, time.Time{}, schemas.DefaultLimits())
			field := strings.Join(path, ".")
			switch {
			case wantValid && err != nil:
				t.Errorf("%s: %s: want valid, got %v", info.Short(), field, err)
			case !wantValid && (err == nil || !strings.Contains(err.Error(), `"`+field)):
				t.Errorf("%s: %s: want an error naming the field, got %v", info.Short(), field, err)
			}
		}
		var walk func(path []string, n *schemaNode, get func(map[string]any) map[string]any)
		walk = func(path []string, n *schemaNode, get func(map[string]any) map[string]any) {
			for name, prop := range n.Properties {
				p := append(slices.Clone(path), name)
				if slices.Contains(n.Required, name) && prop.Type != "number" && prop.Type != "integer" && prop.Type != "boolean" {
					check(p, func(m map[string]any) { delete(get(m), name) }, false)
				}
				if len(prop.Enum) > 0 {
					check(p, func(m map[string]any) { get(m)[name] = "not-in-the-schema" }, false)
					for _, v := range prop.Enum {
						check(p, func(m map[string]any) { get(m)[name] = v }, true)
					}
				}
				if prop.Type == "object" && len(prop.Properties) > 0 {
					walk(p, prop, func(m map[string]any) map[string]any {
						sub, _ := get(m)[name].(map[string]any)
						if sub == nil {
							sub = map[string]any{}
							get(m)[name] = sub
						}
						return sub
					})
				}
			}
		}
		walk(nil, &root, func(m map[string]any) map[string]any { return m })
	}
}
