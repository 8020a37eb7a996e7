package taskdetect

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type gen struct {
	rng *rand.Rand
	out []stream.Event
	n   int
}

func (g *gen) add(at time.Duration, p schemas.Payload) {
	g.out = append(g.out, stream.Event{ID: uuid.Must(uuid.NewV7()).String(), Tenant: "acme", Time: t0.Add(at), Payload: p})
}

// run emits one task of type/queue starting at `at`: started, then
// succeeded or failed after dur (or nothing if stuck).
func (g *gen) run(at time.Duration, typ string, dur time.Duration, fail, stuck bool) {
	g.n++
	ref := schemas.TaskRef{TaskID: fmt.Sprintf("t-%d", g.n), TaskType: typ, Queue: "default", Attempt: 1}
	g.add(at, schemas.TaskStarted{TaskRef: ref, Worker: "w1", StartedAt: t0.Add(at)})
	if stuck {
		return
	}
	run := schemas.TaskRun{Worker: "w1", StartedAt: t0.Add(at), FinishedAt: t0.Add(at + dur), DurationMS: dur.Milliseconds()}
	if fail {
		g.add(at+dur, schemas.TaskFailed{TaskRef: ref, TaskRun: run, ErrorClass: "boom"})
	} else {
		g.add(at+dur, schemas.TaskSucceeded{TaskRef: ref, TaskRun: run})
	}
}

// normal: 4 tasks/s for 10 minutes, ~2% failures, log-normal durations.
func normal(g *gen, from, to time.Duration, anomaly func(at time.Duration) (factor float64, failRate float64)) {
	for at := from; at < to; at += 250 * time.Millisecond {
		f, fr := 1.0, 0.02
		if anomaly != nil {
			f, fr = anomaly(at)
		}
		dur := time.Duration(float64(800*time.Millisecond) * f * (1 + 0.2*g.rng.NormFloat64()))
		g.run(at, "export.csv", max(dur, time.Millisecond), g.rng.Float64() < fr, false)
	}
}

func TestTaskDetector(t *testing.T) {
	window := func(from, to time.Duration, f, fr float64) func(time.Duration) (float64, float64) {
		return func(at time.Duration) (float64, float64) {
			if at >= from && at < to {
				return f, fr
			}
			return 1, 0.02
		}
	}
	tests := []struct {
		name string
		gen  func(g *gen)
		want []string // kind entity
	}{
		{"steady is quiet", func(g *gen) { normal(g, 0, 10*time.Minute, nil) }, nil},
		{"failure spike", func(g *gen) {
			normal(g, 0, 10*time.Minute, window(5*time.Minute, 5*time.Minute+30*time.Second, 1, 0.8))
		},
			[]string{KindFailureSpike + " task:export.csv/default"}},
		{"latency regression x5", func(g *gen) { normal(g, 0, 10*time.Minute, window(5*time.Minute, 6*time.Minute, 5, 0.02)) },
			[]string{KindLatencyRegression + " task:export.csv/default"}},
		{"stuck task", func(g *gen) {
			normal(g, 0, 10*time.Minute, nil)
			g.run(3*time.Minute, "export.csv", 0, false, true)
		}, []string{KindStuck + " task_id:t-" + fmt.Sprint(2401)}},
		{"terminal event before start is not stuck", func(g *gen) {
			normal(g, 0, 10*time.Minute, nil)
			ref := schemas.TaskRef{TaskID: "x", TaskType: "export.csv", Queue: "default", Attempt: 1}
			g.add(3*time.Minute, schemas.TaskSucceeded{TaskRef: ref, TaskRun: schemas.TaskRun{Worker: "w", StartedAt: t0, FinishedAt: t0, DurationMS: 5}})
			g.add(3*time.Minute-time.Second, schemas.TaskStarted{TaskRef: ref, Worker: "w", StartedAt: t0})
		}, nil},
		{"retry storm", func(g *gen) {
			normal(g, 0, 5*time.Minute, nil)
			for i := range 30 {
				g.add(2*time.Minute+time.Duration(i)*time.Second, schemas.TaskRetried{TaskRef: schemas.TaskRef{
					TaskID: fmt.Sprintf("r-%d", i%7), TaskType: "export.csv", Queue: "default", Attempt: 2 + i/7}})
			}
		}, []string{KindRetryStorm + " task:export.csv/default"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gen{rng: rand.New(rand.NewPCG(1, 2))}
			tt.gen(g)
			slices.SortStableFunc(g.out, func(a, b stream.Event) int { return a.Time.Compare(b.Time) })
			d, err := New(Config{})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range g.out {
				for _, f := range d.Observe(e) {
					if err := f.Anomaly.Validate(); err != nil {
						t.Fatalf("invalid anomaly: %v", err)
					}
					got = append(got, f.Anomaly.Kind+" "+f.Anomaly.Entity.String())
				}
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("findings\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

// TestLatencyRegressionRampingIn is make eval's shape, which the detector
// missed (F1 0.00): a short history, then tasks started in a 40 s window
// run 5x longer. Their completions arrive over the next minutes mixed
// with the fast ones still finishing, the slow runs' fast tail first, and
// a baseline that kept learning followed them up (median z peaked near
// 1.9, under the trigger of 3).
func TestLatencyRegressionRampingIn(t *testing.T) {
	for seed := range uint64(5) {
		g := &gen{rng: rand.New(rand.NewPCG(seed, 9))}
		for at := time.Duration(0); at < 4*time.Minute; at += time.Duration(g.rng.ExpFloat64() * float64(150*time.Millisecond)) {
			mean := 2 * time.Second
			if at >= 50*time.Second && at < 90*time.Second {
				mean *= 5
			}
			const sigma = 0.4
			dur := time.Duration(float64(mean) * math.Exp(sigma*g.rng.NormFloat64()-sigma*sigma/2))
			g.run(at, "report.build", dur, g.rng.Float64() < 0.03, false)
		}
		slices.SortStableFunc(g.out, func(a, b stream.Event) int { return a.Time.Compare(b.Time) })
		d, err := New(Config{})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var at time.Duration
		for _, e := range g.out {
			for _, f := range d.Observe(e) {
				got = append(got, f.Anomaly.Kind)
				if f.Anomaly.Kind == KindLatencyRegression && at == 0 {
					at = e.Time.Sub(t0)
				}
			}
		}
		if !slices.Equal(got, []string{KindLatencyRegression}) {
			t.Errorf("seed %d: findings %v, want one latency regression", seed, got)
		} else if at > 75*time.Second {
			t.Errorf("seed %d: found at %s, want within 25 s of the first slow start", seed, at)
		}
	}
}
