package taskdetect

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tributary-io/tributary/processors/internal/robust"
	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

// expireEvery amortises the idle-key sweep over this many events.
const expireEvery = 1024

type series struct {
	Outcomes stream.Burst    `json:"outcomes"` // terminal events, label "f" for failures
	Base     float64         `json:"base"`     // learned failure rate
	BaseN    int             `json:"base_n"`
	Lat      robust.Baseline `json:"lat"`    // of log(duration_ms)
	Frozen   int             `json:"frozen"` // points the baseline has not learned in a raised period
	Recent   []float64       `json:"recent"`
	RecentT  []time.Time     `json:"recent_t"`
	LatUntil time.Time       `json:"lat_until,omitzero"`
	Retries  stream.Burst    `json:"retries"`
}

type task struct {
	Series  string    `json:"series"` // "type/queue"
	Started time.Time `json:"started,omitzero"`
	EventID string    `json:"event_id"`
	Attempt int       `json:"attempt"`
	Done    bool      `json:"done"`
	Alerted bool      `json:"alerted"`
}

type state struct {
	Clocks stream.Clocks        `json:"clocks"` // per tenant
	Series stream.Keyed[series] `json:"series"`
	Tasks  stream.Keyed[task]   `json:"tasks"`
	// LastScan is each tenant's watermark at its last stuck-task scan.
	LastScan map[string]time.Time `json:"last_scans"`
	Late     int                  `json:"late"`
	Events   int                  `json:"events"`
}

// Detector is the task family's detector; see stream.Detector.
type Detector struct {
	cfg Config
	lat robust.Config
	s   state
}

var _ stream.Detector = (*Detector)(nil)

// New validates cfg and returns an empty detector.
func New(cfg Config) (*Detector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Durations in log space: a slow level, and a spread of at least 5%.
	lat := robust.Config{Alpha: 0.05, MinScale: 0.05}
	lat.SetDefaults()
	d := &Detector{cfg: cfg, lat: lat}
	d.reset()
	return d, nil
}

func (d *Detector) reset() {
	d.s.Clocks.Lateness = d.cfg.Lateness
	if d.s.LastScan == nil {
		d.s.LastScan = map[string]time.Time{}
	}
	if d.s.Series.M == nil {
		d.s.Series = stream.NewKeyed[series](d.cfg.MaxKeys, d.cfg.Idle)
	}
	if d.s.Tasks.M == nil {
		d.s.Tasks = stream.NewKeyed[task](d.cfg.MaxKeys, d.cfg.Idle)
	}
	d.s.Series.Max, d.s.Series.Idle = d.cfg.MaxKeys, d.cfg.Idle
	d.s.Tasks.Max, d.s.Tasks.Idle = d.cfg.MaxKeys, d.cfg.Idle
}

// Observe feeds one task event; other payloads are ignored. Stuck tasks are
// reported from whichever event moves the watermark past their limit.
func (d *Detector) Observe(ev stream.Event) []stream.Finding {
	if d.s.Clocks.Observe(ev.Tenant, ev.Time) {
		d.s.Late++
		return nil
	}
	d.s.Events++
	if d.s.Events%expireEvery == 0 {
		d.s.Series.ExpireBy(d.s.Clocks.KeyWatermark)
		d.s.Tasks.ExpireBy(d.s.Clocks.KeyWatermark)
		d.s.Clocks.Forget(d.cfg.Idle)
		for tenant := range d.s.LastScan {
			if _, ok := d.s.Clocks.T[tenant]; !ok {
				delete(d.s.LastScan, tenant)
			}
		}
	}
	var out []stream.Finding
	switch p := ev.Payload.(type) {
	case schemas.TaskStarted:
		t := d.s.Tasks.Get(stream.Key(ev.Tenant, p.TaskID), ev.Time)
		// A terminal event of this or a later attempt that arrived first wins.
		if !(t.Done && t.Attempt >= p.Attempt) {
			*t = task{Series: p.TaskType + "/" + p.Queue, Started: ev.Time, EventID: ev.ID, Attempt: p.Attempt}
		}
	case schemas.TaskSucceeded:
		d.done(ev, p.TaskRef)
		out = append(out, d.outcome(ev, p.TaskRef, false, p.DurationMS)...)
	case schemas.TaskFailed:
		d.done(ev, p.TaskRef)
		out = append(out, d.outcome(ev, p.TaskRef, true, p.DurationMS)...)
	case schemas.TaskTimedOut:
		d.done(ev, p.TaskRef)
		out = append(out, d.outcome(ev, p.TaskRef, true, -1)...)
	case schemas.TaskCancelled:
		d.done(ev, p.TaskRef)
	case schemas.TaskRetried:
		out = append(out, d.retried(ev, p)...)
	}
	return append(out, d.scan(ev.Tenant)...)
}

func (d *Detector) done(ev stream.Event, r schemas.TaskRef) {
	t := d.s.Tasks.Get(stream.Key(ev.Tenant, r.TaskID), ev.Time)
	if r.Attempt >= t.Attempt {
		t.Series, t.Attempt, t.Done = r.TaskType+"/"+r.Queue, r.Attempt, true
	}
}

func (d *Detector) outcome(ev stream.Event, r schemas.TaskRef, failed bool, durMS int64) []stream.Finding {
	id := r.TaskType + "/" + r.Queue
	s := d.s.Series.Get(stream.Key(ev.Tenant, id), ev.Time)
	label := "s"
	if failed {
		label = "f"
	}
	var out []stream.Finding
	c := d.cfg
	if s.Outcomes.Observe(stream.Hit{T: ev.Time, ID: ev.ID, Label: label}, c.FailWindow, 4096, d.s.Clocks.Watermark(ev.Tenant)) == nil {
		return nil // redelivered
	}
	hits := s.Outcomes.W.Span(ev.Time.Add(-c.FailWindow), ev.Time)
	n, k := len(hits), stream.CountLabel(hits, "f")
	p0 := max(s.Base, 0.01)
	z := (float64(k) - float64(n)*p0) / math.Sqrt(float64(n)*p0*(1-p0))
	rate := float64(k) / float64(max(n, 1))
	trig := s.BaseN >= c.FailWarmup && n >= c.FailMinEvents && rate >= c.FailMinRate && z >= c.FailZ
	inIncident := ev.Time.Before(s.Outcomes.Until)
	if s.Outcomes.Check(hits, ev.Time, c.FailWindow, trig) {
		var failedHits []stream.Hit
		for _, h := range hits {
			if h.Label == "f" {
				failedHits = append(failedHits, h)
			}
		}
		out = append(out, d.finding(ev.Tenant, KindFailureSpike, "task", id, z/c.FailZ, hits, failedHits, map[string]string{
			"failures": stream.I(k), "terminal": stream.I(n), "failure_rate": stream.F(rate),
			"baseline_rate": stream.F(s.Base), "z": stream.F(z), "window": c.FailWindow.String()}))
	} else if !inIncident && !trig {
		// Learn only from normal times, so a storm does not become normal.
		x := 0.0
		if failed {
			x = 1
		}
		if s.BaseN == 0 {
			s.Base = x
		}
		s.Base += c.FailAlpha * (x - s.Base)
		s.BaseN++
	}
	if durMS >= 0 {
		out = append(out, d.latency(ev, s, id, durMS)...)
	}
	return out
}

func (d *Detector) latency(ev stream.Event, s *series, id string, durMS int64) []stream.Finding {
	c := d.cfg
	x := math.Log1p(float64(durMS))
	if s.Lat.N < c.LatWarmup {
		s.Lat.Learn(&d.lat, x)
		return nil
	}
	z := s.Lat.Z(&d.lat, x)
	s.Recent = append(s.Recent, z)
	s.RecentT = append(s.RecentT, ev.Time)
	if len(s.Recent) > c.LatRecent {
		s.Recent, s.RecentT = s.Recent[1:], s.RecentT[1:]
	}
	sorted := slices.Clone(s.Recent)
	slices.Sort(sorted)
	medZ := sorted[len(sorted)/2]
	// The baseline learns only while the recent run times look normal: a
	// regression ramps in (the slow runs' fast tail arrives first), and a
	// baseline that kept learning would follow it up and never see it.
	// A raised period that lasts LatRelearn completions is the new normal.
	switch {
	case medZ < c.LatFreeze:
		s.Frozen = 0
		s.Lat.Learn(&d.lat, x)
	case s.Frozen >= c.LatRelearn:
		s.Lat.Learn(&d.lat, x)
	default:
		s.Frozen++
	}
	if len(s.Recent) < c.LatRecent {
		return nil
	}
	// The median excess in log space, back in linear terms: how many times
	// slower than the baseline the recent attempts ran.
	ratio := math.Exp(medZ * s.Lat.Sigma(&d.lat))
	trig := medZ >= c.LatZ && ratio >= c.LatFactor
	if ev.Time.Before(s.LatUntil) {
		if trig {
			s.LatUntil = ev.Time.Add(c.LatWindow)
		}
		return nil
	}
	if !trig {
		return nil
	}
	s.LatUntil = ev.Time.Add(c.LatWindow)
	hit := []stream.Hit{{T: s.RecentT[0], ID: ev.ID}, {T: ev.Time, ID: ev.ID}}
	return []stream.Finding{d.finding(ev.Tenant, KindLatencyRegression, "task", id, medZ/c.LatZ, hit, hit[1:], map[string]string{
		"median_z": stream.F(medZ), "baseline_ms": stream.F(math.Expm1(s.Lat.Level)), "ratio": stream.F(ratio),
		"last_ms": stream.I(int(durMS)), "samples": stream.I(len(s.Recent))})}
}

func (d *Detector) retried(ev stream.Event, p schemas.TaskRetried) []stream.Finding {
	// The retry carries the next attempt's number: the previous attempt is
	// over, and the next one's start must still open a task.
	prev := p.TaskRef
	prev.Attempt--
	d.done(ev, prev)
	id := p.TaskType + "/" + p.Queue
	s := d.s.Series.Get(stream.Key(ev.Tenant, id), ev.Time)
	c := d.cfg
	hits, fire := s.Retries.Add(stream.Hit{T: ev.Time, ID: ev.ID, Label: p.TaskID}, c.RetryWindow, c.RetryMin, d.s.Clocks.Watermark(ev.Tenant))
	if !fire {
		return nil
	}
	return []stream.Finding{d.finding(ev.Tenant, KindRetryStorm, "task", id, float64(len(hits))/float64(c.RetryMin), hits, hits,
		map[string]string{"retries": stream.I(len(hits)), "distinct_tasks": stream.I(stream.Distinct(hits)), "window": c.RetryWindow.String()})}
}

// scan reports tenant's open tasks older than their limit at the tenant's
// watermark; it runs at most once per second of the tenant's event time.
// A tenant whose every event stops gets no new stuck-task finding until
// its next event: no other tenant's clock may decide for it.
func (d *Detector) scan(tenant string) []stream.Finding {
	wm := d.s.Clocks.Watermark(tenant)
	if wm.Sub(d.s.LastScan[tenant]) < time.Second {
		return nil
	}
	d.s.LastScan[tenant] = wm
	var out []stream.Finding
	d.s.Tasks.EachTenant(tenant, func(key string, t *task) {
		if t.Done || t.Alerted || t.Started.IsZero() {
			return
		}
		limit := d.limit(key, t.Series)
		if wm.Sub(t.Started) <= limit {
			return
		}
		t.Alerted = true
		_, taskID := stream.SplitKey(key)
		typ, queue := splitSeries(t.Series)
		out = append(out, stream.NewFinding(tenant, KindStuck, schemas.FamilyTask, schemas.Entity{Type: "task_id", ID: taskID},
			wm.Sub(t.Started).Seconds()/limit.Seconds(), t.Started, wm, Name, map[string]string{
				"task_type": typ, "queue": queue, "series": "task:" + t.Series, "attempt": stream.I(t.Attempt),
				"started_at": t.Started.Format(time.RFC3339), "limit": limit.String()}, []string{t.EventID}))
	})
	return out
}

func (d *Detector) limit(key, seriesID string) time.Duration {
	tenant, _ := stream.SplitKey(key)
	s, ok := d.s.Series.Peek(stream.Key(tenant, seriesID))
	if !ok || s.Lat.N < d.cfg.LatWarmup {
		return d.cfg.StuckDefault
	}
	typical := time.Duration(math.Expm1(s.Lat.Level) * float64(time.Millisecond))
	return max(d.cfg.StuckMin, time.Duration(d.cfg.StuckFactor*float64(typical)))
}

func (d *Detector) finding(tenant, kind, etype, eid string, score float64, span, related []stream.Hit, ev map[string]string) stream.Finding {
	return stream.NewFinding(tenant, kind, schemas.FamilyTask, schemas.Entity{Type: etype, ID: eid}, score,
		span[0].T, span[len(span)-1].T, Name, ev, stream.IDs(related, 50))
}

// ClampClocks restarts the tenant clocks after notAfter; see
// stream.Detector.
func (d *Detector) ClampClocks(notAfter time.Time) []string { return d.s.Clocks.Clamp(notAfter) }

// Snapshot encodes the whole state as JSON.
func (d *Detector) Snapshot() ([]byte, error) { return json.Marshal(&d.s) }

// Restore replaces the state with a snapshot.
func (d *Detector) Restore(data []byte) error {
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("taskdetect: restore: %w", err)
	}
	d.s = s
	d.reset()
	return nil
}

func splitSeries(s string) (typ, queue string) {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '/' {
			return s[:i], s[i+1:]
		}
	}
	return s, ""
}
