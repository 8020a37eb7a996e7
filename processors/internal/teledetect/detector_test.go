package teledetect

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
}

func (g *gen) add(at time.Duration, p schemas.Payload) {
	g.out = append(g.out, stream.Event{ID: uuid.Must(uuid.NewV7()).String(), Tenant: "acme", Time: t0.Add(at), Payload: p})
}

// world: 3 hosts, a metric every 2 s with a 1-minute "day" and 10% noise,
// heartbeats every 5 s, ~1 log/s with 2% errors, for 5 minutes. mod may
// change a host's metric factor, silence it, or add errors.
func world(g *gen, mod func(host int, at time.Duration) (factor float64, silent bool, errs int)) {
	for at := time.Duration(0); at < 5*time.Minute; at += time.Second {
		for h := range 3 {
			name := fmt.Sprintf("host-%d", h)
			src := schemas.TelemetrySource{Host: name, Service: "api"}
			f, silent, errs := 1.0, false, 0
			if mod != nil {
				f, silent, errs = mod(h, at)
			}
			if silent {
				continue
			}
			if at%(2*time.Second) == 0 {
				v := 50 * (1 + 0.2*math.Sin(2*math.Pi*at.Minutes())) * (1 + 0.1*g.rng.NormFloat64()) * f
				g.add(at, schemas.MetricSample{TelemetrySource: src, Name: "cpu.usage", Value: v})
			}
			if at%(5*time.Second) == 0 {
				g.add(at, schemas.Heartbeat{TelemetrySource: src, IntervalMS: 5000})
			}
			sev := schemas.SeverityInfo
			if g.rng.Float64() < 0.02 {
				sev = schemas.SeverityError
			}
			g.add(at, schemas.LogRecord{TelemetrySource: src, Severity: sev, Body: "ok"})
			for range errs {
				g.add(at, schemas.LogRecord{TelemetrySource: src, Severity: schemas.SeverityError, Body: "upstream 503"})
			}
		}
	}
}

func during(host int, from, to time.Duration, f float64, silent bool, errs int) func(int, time.Duration) (float64, bool, int) {
	return func(h int, at time.Duration) (float64, bool, int) {
		if h == host && at >= from && at < to {
			return f, silent, errs
		}
		return 1, false, 0
	}
}

func TestTelemetryDetector(t *testing.T) {
	tests := []struct {
		name string
		mod  func(int, time.Duration) (float64, bool, int)
		want []string
	}{
		{"quiet", nil, nil},
		{"spike x2.2", during(1, 3*time.Minute, 3*time.Minute+20*time.Second, 2.2, false, 0), []string{KindMetricSpike + " series:host-1/cpu.usage"}},
		{"drop x0.05", during(2, 3*time.Minute, 3*time.Minute+20*time.Second, 0.05, false, 0), []string{KindMetricDrop + " series:host-2/cpu.usage"}},
		{"silent host", during(0, 3*time.Minute, 4*time.Minute, 1, true, 0), []string{KindSilentHost + " host:host-0"}},
		{"error burst", during(1, 2*time.Minute, 2*time.Minute+15*time.Second, 1, false, 20), []string{KindErrorLogBurst + " service:host-1/api"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := &gen{rng: rand.New(rand.NewPCG(3, 4))}
			world(g, tt.mod)
			// Shuffle within 3 s to exercise out-of-order arrival.
			for i := range g.out {
				j := min(len(g.out)-1, i+g.rng.IntN(8))
				if g.out[j].Time.Sub(g.out[i].Time) < 3*time.Second {
					g.out[i], g.out[j] = g.out[j], g.out[i]
				}
			}
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
