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
	traceSeeds := []string{"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
		"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x", "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x\ny",
		"00-00000000000000000000000000000000-b7ad6b7169203331-01", "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
		"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-", "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01"}
	seeds = append(seeds, traceSeeds...)
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
		// Mutations of valid values reach the patterns' corners.
		for _, valid := range append([]string{"0190a6c2-5f1b-7c3d-8e4f-0123456789ab"}, traceSeeds...) {
			for range 3000 {
				b := []byte(valid)
				for range 1 + rng.IntN(2) {
					b[rng.IntN(len(b))] = "0f-\nxA"[rng.IntN(6)]
				}
				cases = append(cases, string(b), string(b[:rng.IntN(len(b)+1)]))
			}
		}
		for _, v := range cases {
			if got, want := f.Match(v), f.re.MatchString(v); got != want {
				t.Fatalf("%s: Match(%q) = %v, Pattern %s says %v", name, v, got, f.Pattern, want)
			}
			for _, n := range f.Not {
				if n.Match == nil {
					continue
				}
				if got, want := n.Match(v), n.re.MatchString(v); got != want {
					t.Fatalf("%s: Not %s: Match(%q) = %v, regexp says %v", name, n.Pattern, v, got, want)
				}
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
