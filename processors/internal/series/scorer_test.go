package series

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

// point is one observation of a test series.
type point struct {
	t time.Time
	x float64
}

// gen builds n points at step with value f(i, rng).
func gen(n int, step time.Duration, seed uint64, f func(i int, rng *rand.Rand) float64) []point {
	rng := rand.New(rand.NewPCG(seed, 42))
	out := make([]point, n)
	for i := range out {
		out[i] = point{t0.Add(time.Duration(i) * step), f(i, rng)}
	}
	return out
}

func scoreAll(t *testing.T, c Config, ps []point) []Result {
	t.Helper()
	if name := os.Getenv("DUMP"); name != "" && strings.Contains(t.Name(), name) {
		var b strings.Builder
		b.WriteString("timestamp,value\n")
		for _, p := range ps {
			fmt.Fprintf(&b, "%s,%g\n", p.t.Format(time.DateTime), p.x)
		}
		os.WriteFile("/tmp/dump.csv", []byte(b.String()), 0o644)
	}
	c.SetDefaults()
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	var s State
	out := make([]Result, len(ps))
	for i, p := range ps {
		out[i] = s.Update(&c, p.t, p.x)
		if r := out[i]; r.Score < 0 || r.Score > 1 || math.IsNaN(r.Score) || r.Raw < 0 || r.Raw > 1 || math.IsNaN(r.Raw) {
			t.Fatalf("point %d: score %v, raw %v out of [0, 1]", i, r.Score, r.Raw)
		}
	}
	return out
}

func poisson(rng *rand.Rand, lambda float64) float64 {
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= rng.Float64()
		if p <= l {
			return float64(k)
		}
		k++
	}
}

// alerts lists the points scoring at least Alert from index from on.
func alerts(rs []Result, from int) []int {
	var out []int
	for i := from; i < len(rs); i++ {
		if rs[i].Alert {
			out = append(out, i)
		}
	}
	return out
}

// Each case is a series the previous scorer (package robust) failed on:
// it alarmed on normal points of it or missed its anomaly. quietFrom is
// where the scorer has had time to learn (the corpora's probation is 15%
// of a series); from there only the anomaly, [from, to), may alert, and
// it must, by the point hitBy.
type failureCase struct {
	name      string
	ps        []point
	quietFrom int
	from, to  int // the anomaly; from == to: none
	hitBy     int
}

func TestScorerFailureModes(t *testing.T) {
	for _, tt := range failureCases() {
		t.Run(tt.name, func(t *testing.T) {
			rs := scoreAll(t, Config{}, tt.ps)
			hit := -1
			for _, i := range alerts(rs, tt.quietFrom) {
				if i >= tt.from && i < tt.to {
					if hit < 0 {
						hit = i
					}
					continue
				}
				t.Errorf("false alert at point %d (x=%g z=%.1f raw %.3f)", i, tt.ps[i].x, rs[i].Z, rs[i].Raw)
			}
			if tt.from < tt.to && (hit < 0 || hit > tt.hitBy) {
				t.Errorf("anomaly [%d, %d) first alerted at %d, want by %d", tt.from, tt.to, hit, tt.hitBy)
			}
		})
	}
}

func failureCases() []failureCase {
	day := 24 * time.Hour
	square := func(i int, step time.Duration) float64 {
		h := t0.Add(time.Duration(i) * step).Hour()
		if h >= 8 && h < 20 {
			return 80
		}
		return 20
	}
	return []failureCase{
		{"sparse counts: a count of 1 or 2 is not an anomaly",
			gen(4000, 5*time.Minute, 1, func(i int, r *rand.Rand) float64 { return poisson(r, 0.05) }), 600, 0, 0, 0},
		{"sparse counts: a burst of counts is",
			gen(4000, 5*time.Minute, 2, func(i int, r *rand.Rand) float64 {
				if i >= 3000 && i < 3008 {
					return poisson(r, 6)
				}
				return poisson(r, 0.05)
			}), 600, 3000, 3008, 3003},
		{"recurring bursts are normal once seen",
			gen(4000, 5*time.Minute, 3, func(i int, r *rand.Rand) float64 {
				if i%72 < 6 {
					return 55 + 3*r.NormFloat64()
				}
				return math.Round((4+0.4*r.NormFloat64())*10) / 10
			}), 700, 0, 0, 0},
		{"a recurring burst that runs on is not",
			gen(4000, 5*time.Minute, 4, func(i int, r *rand.Rand) float64 {
				if i%72 < 6 || (i >= 2886 && i < 2940) {
					return 55 + 3*r.NormFloat64()
				}
				return math.Round((4+0.4*r.NormFloat64())*10) / 10
			}), 700, 2886, 2960, 2900},
		{"noise-free steps of a daily square wave are normal",
			gen(4032, 5*time.Minute, 5, func(i int, r *rand.Rand) float64 { return square(i, 5*time.Minute) }), 864, 0, 0, 0},
		{"a missing step is not",
			gen(4032, 5*time.Minute, 6, func(i int, r *rand.Rand) float64 {
				if i/288 == 10 {
					return 20
				}
				return square(i, 5*time.Minute)
			}), 864, 10*288 + 96, 10*288 + 240, 10*288 + 97},
		{"a lasting level shift alerts once and is then learned",
			gen(4000, 5*time.Minute, 7, func(i int, r *rand.Rand) float64 {
				if i >= 2000 {
					return 60 + 2*r.NormFloat64()
				}
				return 50 + 2*r.NormFloat64()
			}), 600, 2000, 2100, 2003},
		{"a noise-free level shift too",
			gen(3000, time.Minute, 8, func(i int, r *rand.Rand) float64 {
				if i >= 1500 {
					return 14
				}
				return 10
			}), 450, 1500, 1600, 1500},
		{"weekly rhythm: weekends are normal, a weekday that looks like one is not",
			gen(16*7*24, time.Hour, 9, func(i int, r *rand.Rand) float64 {
				ts := t0.Add(time.Duration(i) * time.Hour)
				lvl := 1.0
				if wd := ts.Weekday(); wd == time.Saturday || wd == time.Sunday || ts.Sub(t0)/day == 7*12 {
					lvl = 0.4
				}
				return 1000 * lvl * (1.3 + math.Sin(2*math.Pi*float64(ts.Hour())/24)) * (1 + 0.05*r.NormFloat64())
			}), 3 * 7 * 24, 7 * 12 * 24, 7*12*24 + 24, 7*12*24 + 12},
	}
}

// TestScoresDoNotSaturate: only real anomalies may reach the top of the
// scale, and a long stretch of change must not pin it there; the previous
// scorer printed 1.0 for tens of thousands of points of a corpus, so no
// threshold could separate them.
func TestScoresDoNotSaturate(t *testing.T) {
	spike := func(i int) bool { return i%997 == 0 && i > 2000 }
	ps := gen(20000, time.Minute, 10, func(i int, r *rand.Rand) float64 {
		switch {
		case spike(i):
			return 100 + 40*r.Float64()
		case i >= 12000:
			return 5 + r.NormFloat64() // a regime far below the first
		}
		return 50 + 3*r.NormFloat64()
	})
	rs := scoreAll(t, Config{Cooldown: -1}, ps)
	high, ones := 0, 0
	for i, r := range rs {
		if spike(i) || i < 600 || (i >= 12000 && i < 12100) {
			continue
		}
		if r.Raw >= 0.5 {
			high++
		}
		if r.Raw == 1 {
			ones++
		}
	}
	if ones > 0 || high > 20 {
		t.Errorf("on ordinary points: %d score 1 and %d at least 0.5, of %d", ones, high, len(rs))
	}
}

// TestReportsARunOnce: a run of anomalous points alerts at its start, not
// on every point, unless every point is asked for.
func TestReportsARunOnce(t *testing.T) {
	ps := gen(3000, time.Minute, 11, func(i int, r *rand.Rand) float64 {
		if i >= 2000 && i < 2010 {
			return 80 + r.NormFloat64()
		}
		return 50 + r.NormFloat64()
	})
	if got := alerts(scoreAll(t, Config{}, ps), 0); len(got) != 1 || got[0] < 2000 || got[0] > 2002 {
		t.Errorf("alerts at %v, want one at the run's start", got)
	}
	if got := alerts(scoreAll(t, Config{Cooldown: -1}, ps), 0); len(got) < 5 {
		t.Errorf("with every point scored, alerts at %v, want most of the run", got)
	}
}

// TestStateSurvivesJSON: a checkpointed state goes on exactly as the
// original, as the live detector's restore needs.
func TestStateSurvivesJSON(t *testing.T) {
	ps := gen(4000, 5*time.Minute, 12, func(i int, r *rand.Rand) float64 {
		return 100 + 30*math.Sin(2*math.Pi*float64(i)/288) + 3*r.NormFloat64()
	})
	var c Config
	c.SetDefaults()
	var a State
	for _, p := range ps[:3000] {
		a.Update(&c, p.t, p.x)
	}
	data, err := json.Marshal(&a)
	if err != nil {
		t.Fatal(err)
	}
	var b State
	if err := json.Unmarshal(data, &b); err != nil {
		t.Fatal(err)
	}
	for i, p := range ps[3000:] {
		if ra, rb := a.Update(&c, p.t, p.x), b.Update(&c, p.t, p.x); ra != rb {
			t.Fatalf("point %d after restore: %+v, want %+v", 3000+i, rb, ra)
		}
	}
	if len(data) > 64<<10 {
		t.Errorf("state of a series with a daily profile is %d bytes", len(data))
	}
}

func TestConfigValidate(t *testing.T) {
	c := Config{Seasons: []time.Duration{-time.Hour}, Warmup: -1, Range: -1, Alert: 2}
	c.SetDefaults()
	err := c.Validate()
	for _, want := range []string{"season -1h0m0s", "warm-up -1", "range -1", "alert 2"} {
		if err == nil || !contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %q", err, want)
		}
	}
}

func contains(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return true
		}
	}
	return false
}

func BenchmarkUpdate20k(b *testing.B) {
	ps := gen(20000, 5*time.Minute, 13, func(i int, r *rand.Rand) float64 {
		return 100 + 30*math.Sin(2*math.Pi*float64(i)/288) + 3*r.NormFloat64()
	})
	var c Config
	c.SetDefaults()
	b.ReportAllocs()
	for b.Loop() {
		var s State
		for _, p := range ps {
			s.Update(&c, p.t, p.x)
		}
	}
}
