// Package sim generates the events of simulated services — auth, task
// scheduler and telemetry agent — for a Scenario, with anomalies injected
// at set offsets and the ground truth of each. It is pure: no clock, no bus,
// no files. Given the same scenario, seed and start it yields the same
// events (ids included) in event-time order, so detectors can be evaluated
// in-process and a published run can be reproduced.
package sim

import (
	"container/heap"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

// Event sources, one per simulated service.
const (
	SourceAuth      = "//tributary/sim/auth-service"
	SourceTasks     = "//tributary/sim/task-scheduler"
	SourceTelemetry = "//tributary/sim/telemetry-agent"
)

// DefaultStart is the start used without WithStart: fixed, so that a bare
// New(sc, seed) is reproducible. Publishers pass a start near now.
var DefaultStart = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Generator yields a scenario's events. It is immutable after New and safe
// for concurrent use; each Events call replays the run from the beginning.
type Generator struct {
	sc    Scenario
	seed  uint64
	start time.Time
	world world
	plans []plan
}

// Option adjusts New.
type Option func(*Generator)

// WithStart sets the event time of offset 0 (default DefaultStart).
func WithStart(t time.Time) Option { return func(g *Generator) { g.start = t.UTC() } }

// New validates sc (after defaults) and plans its anomalies. It does no I/O.
func New(sc Scenario, seed uint64, opts ...Option) (*Generator, error) {
	sc = sc.WithDefaults()
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	g := &Generator{sc: sc, seed: seed, start: DefaultStart}
	for _, o := range opts {
		o(g)
	}
	// Separate streams for the world, the plan and the events, so adding
	// an anomaly does not reshuffle the users, nor vice versa.
	g.world = newWorld(sc, rand.New(rand.NewPCG(seed, 1)))
	prng := rand.New(rand.NewPCG(seed, 2))
	for _, a := range sc.Anomalies {
		g.plans = append(g.plans, newPlan(sc, g.world, a, g.start, prng))
	}
	return g, nil
}

// Scenario returns the scenario with defaults applied.
func (g *Generator) Scenario() Scenario { return g.sc }

// Start and End bound the event times.
func (g *Generator) Start() time.Time { return g.start }
func (g *Generator) End() time.Time   { return g.start.Add(g.sc.Duration) }

// Truth returns the ground truth of every injected anomaly, in scenario order.
func (g *Generator) Truth() []Truth {
	out := make([]Truth, len(g.plans))
	for i, p := range g.plans {
		out[i] = p.truth
	}
	return out
}

// ErrStop ends Events early without an error when returned by yield.
var ErrStop = errors.New("sim: stop")

// Events calls yield with every event in event-time order (ties in a fixed
// order); at is the event's time. It stops at the first error yield returns
// and returns it (nil for ErrStop).
func (g *Generator) Events(yield func(at time.Time, env schemas.Envelope) error) error {
	r := &run{g: g, rng: rand.New(rand.NewPCG(g.seed, 3)), end: g.End(), yield: yield}
	r.setup()
	for r.h.Len() > 0 && r.err == nil {
		it := heap.Pop(&r.h).(*item)
		if !it.at.Before(r.end) {
			break // the heap is ordered: nothing later is in range either
		}
		if it.fn != nil {
			it.fn(it.at)
		} else {
			r.emit(it.at, it.tenant, it.payload, it.trace)
		}
	}
	if errors.Is(r.err, ErrStop) {
		return nil
	}
	return r.err
}

// item is something due at a time: a prepared event or a process step.
type item struct {
	at      time.Time
	seq     uint64 // insertion order, to break ties deterministically
	tenant  string
	payload schemas.Payload
	trace   string
	fn      func(at time.Time)
}

type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	if c := h[i].at.Compare(h[j].at); c != 0 {
		return c < 0
	}
	return h[i].seq < h[j].seq
}
func (h itemHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *itemHeap) Push(x any)   { *h = append(*h, x.(*item)) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	return it
}

// run is the state of one Events call.
type run struct {
	g     *Generator
	rng   *rand.Rand
	h     itemHeap
	seq   uint64
	end   time.Time
	yield func(time.Time, schemas.Envelope) error
	err   error
}

func (r *run) at(at time.Time, fn func(time.Time)) {
	r.seq++
	heap.Push(&r.h, &item{at: at, seq: r.seq, fn: fn})
}

func (r *run) later(at time.Time, tenant string, p schemas.Payload, trace string) {
	r.seq++
	heap.Push(&r.h, &item{at: at, seq: r.seq, tenant: tenant, payload: p, trace: trace})
}

// emit builds the envelope with an id and trace derived from the seed and
// hands it to yield. Only the current time may be emitted directly;
// anything later goes through the heap.
func (r *run) emit(at time.Time, tenant string, p schemas.Payload, trace string) {
	if r.err != nil || !at.Before(r.end) {
		return
	}
	src := SourceTelemetry
	switch p.(type) {
	case schemas.LoginSucceeded, schemas.LoginFailed, schemas.Logout, schemas.TokenRefreshed,
		schemas.MFAApproved, schemas.MFADenied:
		src = SourceAuth
	case schemas.TaskSubmitted, schemas.TaskStarted, schemas.TaskSucceeded, schemas.TaskFailed, schemas.TaskRetried:
		src = SourceTasks
	}
	if trace == "" {
		trace = r.trace()
	}
	env, err := schemas.NewEvent(src, tenant, p, schemas.WithID(r.uuidV7(at)), schemas.WithTime(at),
		schemas.WithTraceParent(trace))
	if err != nil {
		r.err = fmt.Errorf("sim: %s event at %s: %w", p.EventType(), at.Format(time.RFC3339Nano), err)
		return
	}
	r.err = r.yield(at, env)
}

// uuidV7 is a UUIDv7 for at whose random bits come from the seed.
func (r *run) uuidV7(at time.Time) string {
	var b [16]byte
	ms := uint64(at.UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	x, y := r.rng.Uint64(), r.rng.Uint64()
	for i := range 8 {
		b[8+i] = byte(y >> (56 - 8*i))
	}
	b[6] = 0x70 | byte(x&0x0f)
	b[7] = byte(x >> 8)
	b[8] = 0x80 | b[8]&0x3f
	return uuid.UUID(b).String()
}

// trace is a new W3C traceparent from the seed.
func (r *run) trace() string {
	return fmt.Sprintf("00-%016x%016x-%016x-01", r.rng.Uint64()|1, r.rng.Uint64(), r.rng.Uint64()|1)
}

// exp is an exponential wait with the given rate per second.
func (r *run) exp(rate float64) time.Duration {
	return time.Duration(r.rng.ExpFloat64() / rate * float64(time.Second))
}

// jittered is d spread by ±noise.
func (r *run) jittered(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (1 + r.g.sc.Noise*(2*r.rng.Float64()-1)))
}

// rhythm is the daily shape at: +1 at the peak hour, -1 twelve hours later.
func (r *run) rhythm(at time.Time) float64 {
	day := float64(r.g.sc.Day)
	phase := math.Mod(float64(at.Sub(r.g.start)), day)/day - r.g.sc.PeakHour/24
	return math.Cos(2 * math.Pi * phase)
}

// poisson runs fn at the arrivals of a Poisson process whose rate follows
// the daily rhythm around mean, by thinning a process at the peak rate.
func (r *run) poisson(mean float64, fn func(time.Time)) {
	if mean <= 0 {
		return
	}
	a := r.g.sc.Rhythm
	peak := mean * (1 + a)
	var step func(time.Time)
	step = func(at time.Time) {
		if r.rng.Float64()*(1+a) < 1+a*r.rhythm(at) {
			fn(at)
		}
		r.at(at.Add(r.exp(peak)), step)
	}
	r.at(r.g.start.Add(r.exp(peak)), step)
}

// every runs fn every d (jittered), first at a random phase, from..to.
func (r *run) every(d time.Duration, from, to time.Time, fn func(time.Time)) {
	var step func(time.Time)
	step = func(at time.Time) {
		fn(at)
		if next := at.Add(r.jittered(d)); next.Before(to) {
			r.at(next, step)
		}
	}
	r.at(from.Add(time.Duration(r.rng.Float64()*float64(d))), step)
}

// plans returns the plans of one kind for tenant ti.
func (r *run) plans(ti int, kinds ...Kind) []*plan {
	var out []*plan
	for i := range r.g.plans {
		if p := &r.g.plans[i]; p.tenant == ti && slices.Contains(kinds, p.Kind) {
			out = append(out, p)
		}
	}
	return out
}

func (r *run) setup() {
	for ti, t := range r.g.sc.Tenants {
		r.setupAuth(ti, t)
		r.setupTasks(ti, t)
		r.setupTelemetry(ti, t)
	}
}
