package schemas

import "testing"

// BenchmarkDecode measures the consumer's one call on a typical event of
// each family, so a stricter decoder shows what it costs per event.
func BenchmarkDecode(b *testing.B) {
	limits := DefaultLimits()
	for _, typ := range []string{TypeLoginFailed, TypeTaskSucceeded, TypeMetric} {
		env := sampleEvent(typ)
		md := env.Metadata()
		b.Run(typ[len(TypePrefix):], func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(env.Data)))
			for b.Loop() {
				if _, _, err := Decode(md, env.Data, t0, limits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCheckJSON is the strict pass alone, the part of Decode's cost
// that checkJSON adds.
func BenchmarkCheckJSON(b *testing.B) {
	env := sampleEvent(TypeMetric)
	info, _ := Lookup(env.Type)
	b.ReportAllocs()
	b.SetBytes(int64(len(env.Data)))
	for b.Loop() {
		if fe := checkJSON(env.Data, info.fields); fe != nil {
			b.Fatal(fe)
		}
	}
}
