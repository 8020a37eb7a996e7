package robust

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// series is a synthetic metric: a level with a daily rhythm and noise, and an
// optional injected multiplicative anomaly over [from, to).
func series(n int, step time.Duration, day time.Duration, noise, factor float64, from, to int, seed uint64) []float64 {
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make([]float64, n)
	for i := range out {
		t := time.Duration(i) * step
		v := 100 * (1 + 0.2*math.Sin(2*math.Pi*float64(t)/float64(day))) * (1 + noise*rng.NormFloat64())
		if i >= from && i < to {
			v *= factor
		}
		out[i] = v
	}
	return out
}

func TestScorerFindsInjectedAnomalies(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		cfg      Config
		factor   float64
		from, to int
		wantHit  bool
	}{
		{"spike x2.2 on a rhythm", Config{}, 2.2, 400, 410, true},
		{"drop x0.05", Config{}, 0.05, 400, 410, true},
		{"no anomaly: rhythm and noise only", Config{}, 1, 0, 0, false},
		{"seasonal profile, spike", Config{Period: time.Minute, Bins: 30}, 2.2, 400, 410, true},
		{"seasonal profile, quiet", Config{Period: time.Minute, Bins: 30}, 1, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg.WithDefaults()
			if err := cfg.Validate(); err != nil {
				t.Fatal(err)
			}
			xs := series(600, 2*time.Second, time.Minute, 0.1, tt.factor, tt.from, tt.to, 7)
			var s State
			hits, falseHits := 0, 0
			for i, x := range xs {
				r := s.Update(&cfg, t0.Add(time.Duration(i)*2*time.Second), x)
				if r.Score < 0 || r.Score > 1 || math.IsNaN(r.Score) {
					t.Fatalf("point %d: score %v out of [0,1]", i, r.Score)
				}
				if r.Score >= 0.5 {
					if i >= tt.from && i < tt.to {
						hits++
					} else {
						falseHits++
					}
				}
			}
			if tt.wantHit && hits < 3 {
				t.Errorf("flagged %d of %d anomalous points", hits, tt.to-tt.from)
			}
			if falseHits > 3 {
				t.Errorf("%d false alarms on normal points", falseHits)
			}
		})
	}
}

func TestRegimeChangeIsAccepted(t *testing.T) {
	cfg := Config{RegimeAfter: 10}.WithDefaults()
	var s State
	t0 := time.Now()
	var last Result
	for i := range 200 {
		x := 10.0
		if i >= 100 {
			x = 50
		}
		last = s.Update(&cfg, t0, x+0.1*float64(i%3))
	}
	if last.Score != 0 {
		t.Fatalf("still alerting 100 points after a level shift: %+v", last)
	}
}

func BenchmarkUpdate(b *testing.B) {
	cfg := Config{}.WithDefaults()
	xs := series(20000, time.Second, time.Hour, 0.1, 1, 0, 0, 1)
	t0 := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		var s State
		for i, x := range xs {
			s.Update(&cfg, t0.Add(time.Duration(i)*time.Second), x)
		}
	}
}
