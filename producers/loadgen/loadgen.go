// Package loadgen runs a sim scenario against the bus: it paces the
// generator's events in real time (or faster), publishes them through an
// publish.Async, writes the ground truth and reports the achieved rate and
// publish latencies. cmd/tributary-sim is its command line; integration
// tests run it in-process.
package loadgen

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
)

// Config is one run; zero fields take defaults.
type Config struct {
	Scenario sim.Scenario
	Seed     uint64
	// Speed is simulated seconds per wall second: 1 (the default) paces
	// events in real time, 10 replays ten times faster, and a negative
	// value publishes as fast as the brokers take events (unpaced).
	Speed float64
	Async publish.AsyncConfig // default: Buffer 8192, Workers 8, MaxBatch 256
	// Now is the wall clock (default time.Now); event times are placed so
	// that none is ahead of it when published.
	Now    func() time.Time
	Logger *slog.Logger // default: discard
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Speed == 0 {
		c.Speed = 1
	}
	if c.Async.Buffer == 0 {
		c.Async.Buffer = 8192
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if err := c.Scenario.WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := c.Async.WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Async.OnResult != nil {
		errs = append(errs, errors.New("loadgen: Async.OnResult is set by the runner"))
	}
	return errors.Join(errs...)
}

// Report is what a run achieved.
type Report struct {
	Scenario  string
	Seed      uint64
	Start     time.Time // event time of offset 0
	Events    int64     // events handed to the publisher
	Published int64
	Failed    int64
	Elapsed   time.Duration // wall time from the first event to the last ack
	Rate      float64       // published events per wall second
	Expected  float64       // the scenario's expected rate at Speed 1
	Truth     []sim.Truth
	Metrics   publish.Metrics
	// Errors holds the first few publish errors.
	Errors []string
}

const maxReportedErrors = 10

// Run publishes the scenario through c and writes the ground truth to truth
// (JSON lines) before the first event. It returns when every event has its
// result or ctx ended (the report then covers what was published).
func Run(ctx context.Context, cfg Config, c *publish.Client, truth io.Writer) (Report, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return Report{}, err
	}
	sc := cfg.Scenario.WithDefaults()
	now := cfg.Now()
	// Place event time so that no event is ahead of the wall clock when it
	// is published (consumers reject events from the future) and the last
	// one is published about now+D/speed.
	start := now.Add(-sc.Duration)
	if cfg.Speed > 0 {
		start = start.Add(time.Duration(float64(sc.Duration) / cfg.Speed))
	}
	g, err := sim.New(sc, cfg.Seed, sim.WithStart(start))
	if err != nil {
		return Report{}, err
	}
	rep := Report{Scenario: sc.Name, Seed: cfg.Seed, Start: start, Truth: g.Truth(), Expected: sc.ExpectedRate()}
	if err := WriteTruth(truth, rep.Truth); err != nil {
		return rep, err
	}

	var published, failed atomic.Int64
	var mu sync.Mutex
	acfg := cfg.Async
	acfg.OnResult = func(r publish.Result) {
		if r.Err == nil {
			published.Add(1)
			return
		}
		failed.Add(1)
		mu.Lock()
		if len(rep.Errors) < maxReportedErrors {
			rep.Errors = append(rep.Errors, r.Err.Error())
		}
		mu.Unlock()
		cfg.Logger.Warn("publish failed", "id", r.Event.ID, "type", r.Event.Type, "error", r.Err)
	}
	async, err := c.NewAsync(acfg)
	if err != nil {
		return rep, err
	}
	wallStart := cfg.Now()
	runErr := g.Events(func(at time.Time, env schemas.Envelope) error {
		if cfg.Speed > 0 {
			due := wallStart.Add(time.Duration(float64(at.Sub(start)) / cfg.Speed))
			// Sleeping per event would cost more than the events; wait only
			// once the generator is a couple of milliseconds ahead.
			if d := due.Sub(cfg.Now()); d > 2*time.Millisecond {
				if err := sleep(ctx, d); err != nil {
					return err
				}
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rep.Events++
		async.Publish(ctx, env)
		return nil
	})
	// Close waits for every accepted event's result, even when ctx ended:
	// the report must account for everything handed over.
	closeErr := async.Close()
	rep.Elapsed = cfg.Now().Sub(wallStart)
	rep.Published, rep.Failed = published.Load(), failed.Load()
	if s := rep.Elapsed.Seconds(); s > 0 {
		rep.Rate = float64(rep.Published) / s
	}
	rep.Metrics = c.Metrics()
	if runErr != nil {
		return rep, fmt.Errorf("loadgen %s: %w", sc.Name, runErr)
	}
	return rep, closeErr
}

// WriteTruth writes one JSON object per line.
func WriteTruth(w io.Writer, truth []sim.Truth) error {
	enc := json.NewEncoder(w)
	for _, t := range truth {
		if err := enc.Encode(t); err != nil {
			return fmt.Errorf("write ground truth: %w", err)
		}
	}
	return nil
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Summary renders the report for people: rate, failures and per-transport
// latency quantiles.
func (r Report) Summary() string {
	s := fmt.Sprintf("scenario %s seed %d: %d events, %d published, %d failed in %s: %.0f events/s (scenario expects %.0f/s at speed 1)\n",
		r.Scenario, r.Seed, r.Events, r.Published, r.Failed, r.Elapsed.Round(time.Millisecond), r.Rate, r.Expected)
	if l := r.Metrics.Latency; l.Count > 0 {
		// Per event, from acceptance to the last ack: the async buffer's
		// queueing is here, not in the transports' lines below.
		s += fmt.Sprintf("  %-9s %8d events  latency p50 %s  p90 %s  p99 %s  max %s (queueing included)\n",
			"events", l.Count, l.P50.Round(10*time.Microsecond), l.P90.Round(10*time.Microsecond),
			l.P99.Round(10*time.Microsecond), l.Max.Round(time.Millisecond))
	}
	for _, tr := range []schemas.Transport{schemas.TransportJetStream, schemas.TransportKafka} {
		m, ok := r.Metrics.Transports[tr]
		if !ok {
			continue
		}
		s += fmt.Sprintf("  %-9s %8d msgs  %d failed  %d retries  latency p50 %s  p90 %s  p99 %s  max %s\n",
			tr, m.Published, m.Failed, m.Retries, m.Latency.P50.Round(10*time.Microsecond),
			m.Latency.P90.Round(10*time.Microsecond), m.Latency.P99.Round(10*time.Microsecond), m.Latency.Max.Round(time.Millisecond))
	}
	for _, e := range r.Errors {
		s += "  error: " + e + "\n"
	}
	s += fmt.Sprintf("  ground truth: %d anomalies\n", len(r.Truth))
	return s
}
