package schemas

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// agree holds fastDecode to the reference path on data: when it accepts,
// encoding/json must decode the same value and checkJSON find nothing.
// It reports whether the fast path accepted.
func agree(t *testing.T, info TypeInfo, data []byte) bool {
	t.Helper()
	fast, ok := info.fast(data, len(data)%2 == 0) // either way of making strings
	if !ok {
		return false
	}
	ref, err := info.decode(data)
	if err != nil {
		t.Fatalf("%s: fast path accepted %q, encoding/json refuses it: %v", info.Short(), data, err)
	}
	if fe := checkJSON(data, info.fields); fe != nil {
		t.Fatalf("%s: fast path accepted %q, checkJSON refuses it: %v", info.Short(), data, fe)
	}
	if !reflect.DeepEqual(fast, ref) {
		t.Fatalf("%s: %q decodes differently:\nfast %#v\nref  %#v", info.Short(), data, fast, ref)
	}
	return true
}

// Every sample and fixture takes the fast path (else the ingest silently
// pays for the slow one) and decodes as encoding/json does.
func TestFastDecodeTakesPlainEvents(t *testing.T) {
	for _, info := range Types() {
		env := sampleEvent(info.Type)
		if !agree(t, info, env.Data) {
			t.Errorf("%s: sample %s not on the fast path", info.Short(), env.Data)
		}
	}
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		env, err := UnmarshalStructured(b)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		info, _ := Lookup(env.Type)
		if !agree(t, info, env.Data) {
			t.Errorf("%s: not on the fast path", p)
		}
	}
}

// fastCases are bodies at the edges of the plain form: each must either
// be declined or decode exactly as the reference path does.
var fastCases = []string{
	`{}`, ` {} `, `{"host":"h","service":"s","name":"m","value":1}`,
	`{"host":"h","host":"h"}`, `{"host":"h","HOST":"h"}`, `{"Host":"h"}`, `{"hoſt":"h"}`,
	`{"host":"h\u0041"}`, `{"host":"h\"x"}`, `{"host":null}`, `{"labels":null}`, `{"labels":{}}`,
	`{"labels":{"a":"1","a":"2"}}`, `{"labels":{"a":"1","b":"2"}}`, `{"labels":{"é":"ü"}}`,
	`{"labels":{"a":1}}`, `{"labels":[]}`, `{"value":1e999}`, `{"value":-0}`, `{"value":-0.0}`,
	`{"value":1E+2}`, `{"value":01}`, `{"value":1.}`, `{"value":.5}`, `{"value":-}`, `{"value":"1"}`,
	`{"value":true}`, `{"extra":{"a":1}}`, `{"extra":[1]}`, `{"extra":null}`, `{"extra":"x","extra2":-1.5e3,"x3":true}`,
	`{"host":"h"} x`, `{"host":"h"`, `{"host":"h",}`, `{,}`, `[]`, `"x"`, `null`, `{"host":"\xff"}`,
	`{"host":"` + "\x01" + `"}`, `{"host":"日本"}`, `{"host":"h" , "service" : "s" }`,
	`{"interval_ms":9007199254740993}`, `{"interval_ms":123456789012345678}`, `{"interval_ms":1234567890123456789}`,
	`{"interval_ms":1.0}`, `{"interval_ms":1e3}`, `{"interval_ms":-5}`, `{"interval_ms":-0}`,
	`{"scopes":[]}`, `{"scopes":["a","b"]}`, `{"scopes":["a",]}`, `{"scopes":[1]}`, `{"scopes":null}`,
	`{"geo":{"country":"DE","lat":1.5,"lon":-2}}`, `{"geo":{}}`, `{"geo":null}`, `{"geo":{"lat":1,"lat":2}}`,
	`{"geo":{"Lat":1}}`, `{"expires_at":"2025-11-20T10:00:00Z"}`, `{"expires_at":"2025-11-20T10:00:00.5+01:00"}`,
	`{"expires_at":"2025-11-20 10:00:00Z"}`, `{"expires_at":"2025-11-20T10:00:00z"}`, `{"expires_at":1}`,
	`{"retryable":true}`, `{"retryable":false}`, `{"retryable":tru}`, `{"entity":{"type":"t","id":"i"}}`,
	`{"started_at":"2025-11-20T10:00:00Z","finished_at":"2025-11-20T09:00:00Z"}`,
}

func TestFastDecodeAgrees(t *testing.T) {
	for _, info := range Types() {
		for _, c := range fastCases {
			agree(t, info, []byte(c))
		}
	}
}

// FuzzFastDecode holds the fast path to the reference path on any body,
// for the type a byte of the input picks.
func FuzzFastDecode(f *testing.F) {
	types := Types()
	for i, info := range types {
		f.Add(uint8(i), []byte(sampleEvent(info.Type).Data))
	}
	for i, c := range fastCases {
		f.Add(uint8(i), []byte(c))
	}
	f.Fuzz(func(t *testing.T, pick uint8, body []byte) {
		info := types[int(pick)%len(types)]
		if agree(t, info, body) && strings.Contains(string(body), `\`) {
			t.Fatalf("an escape took the fast path: %q", body)
		}
	})
}
