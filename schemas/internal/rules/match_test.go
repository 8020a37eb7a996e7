package rules

import (
	"math/rand/v2"
	"testing"
)

// Every hand-written Match must agree with the Pattern the documents
// publish: on the samples of the format tests and on random strings drawn
// from the characters that matter to each pattern.
func TestMatchAgreesWithPattern(t *testing.T) {
	alphabet := "0123456789abcdefxyzABCXYZ-_:.7 \t/%"
	rng := rand.New(rand.NewPCG(7, 9))
	seeds := []string{"", "a", "acme", "acme-eu_1", "-x", "Acme", "DE", "de", "DEU", "cpu.usage", "_up", ":x", "1cpu",
		"0190a6c2-5f1b-7c3d-8e4f-0123456789ab", "0190a6c2-5f1b-4c3d-8e4f-0123456789ab", "0190A6C2-5F1B-7C3D-8E4F-0123456789AB",
		"0190a6c2-5f1b-7c3d-8e4f-0123456789a", "0190a6c2x5f1b-7c3d-8e4f-0123456789ab", "//tributary/auth", "my service", "a\tb"}
	for name, f := range Formats {
		if f.Match == nil {
			continue
		}
		if f.re == nil {
			t.Fatalf("%s: Match without a Pattern to hold it to", name)
		}
		cases := append([]string(nil), seeds...)
		for range 20000 {
			b := make([]byte, rng.IntN(40))
			for i := range b {
				b[i] = alphabet[rng.IntN(len(alphabet))]
			}
			cases = append(cases, string(b))
		}
		// Mutations of a valid UUID reach the uuid7 pattern's corners.
		for range 5000 {
			b := []byte("0190a6c2-5f1b-7c3d-8e4f-0123456789ab")
			b[rng.IntN(len(b))] = alphabet[rng.IntN(len(alphabet))]
			cases = append(cases, string(b))
		}
		for _, v := range cases {
			if got, want := f.Match(v), f.re.MatchString(v); got != want {
				t.Fatalf("%s: Match(%q) = %v, Pattern %s says %v", name, v, got, f.Pattern, want)
			}
		}
	}
}

func TestMemoBounded(t *testing.T) {
	m := NewMemo(3)
	for _, v := range []string{"a", "b", "c"} {
		m.Add(v)
	}
	if !m.Has("a") || !m.Has("c") || m.Has("d") {
		t.Fatal("memo forgets or invents values")
	}
	m.Add("d") // full: starts over
	if m.Has("a") || !m.Has("d") || len(m.set) != 1 {
		t.Fatalf("memo after overflow holds %v", m.set)
	}
}
