package schemas

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// encodeMD and decodeMD turn metadata into one fuzzable string, one
// "key=value" per line.
func encodeMD(md map[string]string) string {
	lines := make([]string, 0, len(md))
	for k, v := range md {
		lines = append(lines, k+"="+v)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func decodeMD(s string) map[string]string {
	md := map[string]string{}
	for line := range strings.SplitSeq(s, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			md[k] = v
		}
	}
	return md
}

// FuzzDecode drives the consumer path (metadata + body → envelope → typed
// payload → routing). It must never panic, every rejection must be
// ErrInvalid (poison), and whatever it accepts must survive a round trip.
// Seeds are every fixture in testdata plus a few hand-written edge cases.
func FuzzDecode(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	more, _ := filepath.Glob(filepath.Join("testdata", "invalid", "*.json"))
	for _, p := range append(paths, more...) {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		env, err := UnmarshalStructured(b)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		f.Add(encodeMD(env.Metadata()), []byte(env.Data))
	}
	base := sampleEvent(TypeHeartbeat).Metadata()
	f.Add(encodeMD(base), []byte(`null`))
	f.Add(encodeMD(base), []byte(`{"host":1e999}`))
	f.Add(encodeMD(base), []byte(`[]`))
	f.Add("ce_time=2025-13-45T99:00:00Z", []byte(`{}`))
	f.Add("", []byte(nil))

	limits := DefaultLimits()
	routing := DefaultRoutingTable()
	f.Fuzz(func(t *testing.T, mdText string, body []byte) {
		env, p, err := Decode(decodeMD(mdText), body, t0, limits)
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("rejection is not ErrInvalid, a consumer would retry it forever: %v", err)
			}
			return
		}
		if p == nil {
			t.Fatal("accepted event with nil payload")
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("accepted payload fails its own Validate: %v", err)
		}
		again, p2, err := Decode(env.Metadata(), env.Data, t0, limits)
		if err != nil {
			t.Fatalf("re-decoding an accepted event: %v", err)
		}
		if !reflect.DeepEqual(again, env) || !reflect.DeepEqual(p2, p) {
			t.Fatalf("metadata round trip changed the event:\n%+v\n%+v", env, again)
		}
		if _, err := routing.Resolve(env); err != nil && !errors.Is(err, ErrInvalid) {
			t.Fatalf("routing an accepted event: %v", err)
		}
	})
}
