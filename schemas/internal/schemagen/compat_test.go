package schemagen

import (
	"strings"
	"testing"
)

func TestBreaking(t *testing.T) {
	const prev = `{"type":"object","required":["user"],"properties":{
		"user":{"type":"string"},
		"at":{"type":"string","format":"date-time"},
		"method":{"type":"string","enum":["a","b"]},
		"geo":{"type":"object","required":["lat"],"properties":{"lat":{"type":"number"}}},
		"labels":{"type":"object","additionalProperties":{"type":"string"}},
		"ids":{"type":"array","items":{"type":"string"}}}}`
	tests := []struct {
		name string
		cur  string
		want []string // substrings, one per expected problem; empty means compatible
	}{
		{"identical", prev, nil},
		{"new optional field and narrowed enum", strings.Replace(strings.Replace(prev, `"user":{"type":"string"},`,
			`"user":{"type":"string"},"extra":{"type":"string"},`, 1), `["a","b"]`, `["a"]`, 1), nil},
		{"removed field", strings.Replace(prev, `"user":{"type":"string"},`, ``, 1), []string{"user: field removed"}},
		{"retyped field", strings.Replace(prev, `"user":{"type":"string"}`, `"user":{"type":"integer"}`, 1), []string{"user: retyped from string to integer"}},
		{"format change", strings.Replace(prev, `"format":"date-time"`, `"format":"date"`, 1), []string{"at: retyped from string(date-time) to string(date)"}},
		{"new required field", strings.Replace(prev, `"required":["user"]`, `"required":["user","at"]`, 1), []string{"at: newly required"}},
		{"nested required", strings.Replace(prev, `"required":["lat"],"properties":{"lat":{"type":"number"}}`,
			`"required":["lat","lon"],"properties":{"lat":{"type":"number"},"lon":{"type":"number"}}`, 1), []string{"geo.lon: newly required"}},
		{"widened enum", strings.Replace(prev, `["a","b"]`, `["a","b","c"]`, 1), []string{"method: enum value c added"}},
		{"map value retyped", strings.Replace(prev, `"additionalProperties":{"type":"string"}`, `"additionalProperties":{"type":"number"}`, 1), []string{"labels{}: retyped"}},
		{"list item retyped", strings.Replace(prev, `"items":{"type":"string"}`, `"items":{"type":"object"}`, 1), []string{"ids[]: retyped"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Breaking([]byte(prev), []byte(tt.cur))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %q, want %d problems %q", got, len(tt.want), tt.want)
			}
			for i, w := range tt.want {
				if !strings.Contains(got[i], w) {
					t.Errorf("problem %q does not contain %q", got[i], w)
				}
			}
		})
	}
	if _, err := Breaking([]byte("{"), []byte(prev)); err == nil {
		t.Error("unparsable previous document should fail")
	}
}

func TestGenerateCoversRegistry(t *testing.T) {
	docs, err := Generate("../..")
	if err != nil {
		t.Fatal(err)
	}
	if len(docs) != 22+2 {
		t.Errorf("generated %d documents, want one per registered type (22), %s and %s", len(docs), EnvelopeFile, EventFile)
	}
	for _, name := range []string{EnvelopeFile, EventFile} {
		if _, ok := docs[name]; !ok {
			t.Errorf("no %s", name)
		}
		delete(docs, name) // not one type's payload: no schema version
	}
	for name, doc := range docs {
		if v, err := SchemaVersionOf(doc); err != nil || v == "" {
			t.Errorf("%s: schema version %q, %v", name, v, err)
		}
	}
}
