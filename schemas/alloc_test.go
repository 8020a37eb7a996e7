//go:build !race

// The race detector allocates on its own, so allocation counts are only
// checked without it.

package schemas

import "testing"

// The consumer's decode of a typical event stays within a few allocations
// (it took 12 to 19 through encoding/json and reflect): a change that
// drops the fast path, or makes it allocate per field, fails here.
func TestDecodeAllocations(t *testing.T) {
	limits := DefaultLimits()
	for typ, most := range map[string]float64{TypeMetric: 6, TypeLoginFailed: 5, TypeTaskSucceeded: 4} {
		env := sampleEvent(typ)
		md := env.Metadata()
		delete(md, MetaID)
		n := testing.AllocsPerRun(100, func() {
			if _, _, err := DecodeWithID(md, env.ID, env.Data, t0, limits); err != nil {
				t.Fatal(err)
			}
		})
		if n > most {
			t.Errorf("%s: %v allocations per decode, want at most %v", typ, n, most)
		}
	}
}
