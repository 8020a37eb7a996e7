package teledetect

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tributary-io/tributary/processors/internal/series"
	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

// expireEvery amortises the idle-key sweep over this many events.
const expireEvery = 1024

type metric struct {
	S     series.State `json:"s"`
	Last  time.Time    `json:"last"`
	Until time.Time    `json:"until,omitzero"` // the open incident's end
	Late  int          `json:"late"`
}

type host struct {
	Last     time.Time     `json:"last"`
	LastID   string        `json:"last_id"`
	Interval time.Duration `json:"interval"`
	Alerted  bool          `json:"alerted"`
}

type state struct {
	Clocks   stream.Clocks              `json:"clocks"`    // all telemetry, per tenant
	HBClocks stream.Clocks              `json:"hb_clocks"` // heartbeats, per tenant
	Metrics  stream.Keyed[metric]       `json:"metrics"`
	Hosts    stream.Keyed[host]         `json:"hosts"`
	Errors   stream.Keyed[stream.Burst] `json:"errors"`
	// LastScan is each tenant's heartbeat watermark at its last scan.
	LastScan map[string]time.Time `json:"last_scans"`
	Late     int                  `json:"late"`
	Events   int                  `json:"events"`
}

// Detector is the telemetry family's detector; see stream.Detector.
//
// Silence is judged on the heartbeat stream's own watermark, per tenant:
// metrics, logs and heartbeats arrive on different topics with different
// lag, and only heartbeats promise when the next one is due. A tenant whose
// every heartbeat stops is judged at its next heartbeat: no other tenant's
// clock may decide for it.
type Detector struct {
	cfg Config
	s   state
	// Trace, when set, sees every metric point's verdict, keyed by
	// "host/metric" as in the findings (tests compare it with
	// tributary-detect's scores).
	Trace func(tenant, series string, t time.Time, value float64, r series.Result)
}

var _ stream.Detector = (*Detector)(nil)

// New validates cfg and returns an empty detector.
func New(cfg Config) (*Detector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg}
	d.reset()
	return d, nil
}

func (d *Detector) reset() {
	c := d.cfg
	d.s.Clocks.Lateness, d.s.HBClocks.Lateness = c.Lateness, c.Lateness
	if d.s.LastScan == nil {
		d.s.LastScan = map[string]time.Time{}
	}
	if d.s.Metrics.M == nil {
		d.s.Metrics = stream.NewKeyed[metric](c.MaxKeys, c.Idle)
	}
	if d.s.Hosts.M == nil {
		d.s.Hosts = stream.NewKeyed[host](c.MaxKeys, c.Idle)
	}
	if d.s.Errors.M == nil {
		d.s.Errors = stream.NewKeyed[stream.Burst](c.MaxKeys, c.Idle)
	}
	d.s.Metrics.Max, d.s.Metrics.Idle = c.MaxKeys, c.Idle
	d.s.Hosts.Max, d.s.Hosts.Idle = c.MaxKeys, c.Idle
	d.s.Errors.Max, d.s.Errors.Idle = c.MaxKeys, c.Idle
}

// Observe feeds one telemetry event; other payloads are ignored.
func (d *Detector) Observe(ev stream.Event) []stream.Finding {
	if _, hb := ev.Payload.(schemas.Heartbeat); !hb && d.s.Clocks.Observe(ev.Tenant, ev.Time) {
		d.s.Late++
		return nil
	}
	d.s.Events++
	if d.s.Events%expireEvery == 0 {
		d.s.Metrics.ExpireBy(d.s.Clocks.KeyWatermark)
		d.s.Errors.ExpireBy(d.s.Clocks.KeyWatermark)
		d.s.Hosts.ExpireBy(d.s.HBClocks.KeyWatermark)
		d.s.Clocks.Forget(d.cfg.Idle)
		d.s.HBClocks.Forget(d.cfg.Idle)
		for tenant := range d.s.LastScan {
			if _, ok := d.s.HBClocks.T[tenant]; !ok {
				delete(d.s.LastScan, tenant)
			}
		}
	}
	switch p := ev.Payload.(type) {
	case schemas.MetricSample:
		return d.metric(ev, p)
	case schemas.LogRecord:
		if p.Severity != schemas.SeverityError && p.Severity != schemas.SeverityFatal {
			return nil
		}
		id := p.Host + "/" + p.Service
		b := d.s.Errors.Get(stream.Key(ev.Tenant, id), ev.Time)
		hits, fire := b.Add(stream.Hit{T: ev.Time, ID: ev.ID}, d.cfg.ErrWindow, d.cfg.ErrMin, d.s.Clocks.Watermark(ev.Tenant))
		if !fire {
			return nil
		}
		return []stream.Finding{stream.NewFinding(ev.Tenant, KindErrorLogBurst, schemas.FamilyTelemetry,
			schemas.Entity{Type: "service", ID: id}, float64(len(hits))/float64(d.cfg.ErrMin), hits[0].T, hits[len(hits)-1].T, Name,
			map[string]string{"errors": stream.I(len(hits)), "window": d.cfg.ErrWindow.String(), "last_body": truncate(p.Body, 200)},
			stream.IDs(hits, 50))}
	case schemas.Heartbeat:
		return d.heartbeat(ev, p)
	}
	return nil
}

func (d *Detector) metric(ev stream.Event, p schemas.MetricSample) []stream.Finding {
	id := p.Host + "/" + p.Name
	m := d.s.Metrics.Get(stream.Key(ev.Tenant, id), ev.Time)
	// The baseline is a recursion over the series in time order; a point
	// older than the series' latest cannot be folded in, so it is counted
	// and left out rather than corrupting the forecast.
	if !ev.Time.After(m.Last) && !m.Last.IsZero() {
		m.Late++
		return nil
	}
	m.Last = ev.Time
	r := m.S.Update(&d.cfg.Metric, ev.Time, p.Value)
	if d.Trace != nil {
		d.Trace(ev.Tenant, id, ev.Time, p.Value, r)
	}
	if !r.Alert {
		return nil
	}
	if ev.Time.Before(m.Until) {
		m.Until = ev.Time.Add(d.cfg.Cooldown)
		return nil
	}
	m.Until = ev.Time.Add(d.cfg.Cooldown)
	kind := KindMetricSpike
	if r.Z < 0 {
		kind = KindMetricDrop
	}
	return []stream.Finding{stream.NewFinding(ev.Tenant, kind, schemas.FamilyTelemetry, schemas.Entity{Type: "series", ID: id},
		r.Score/d.cfg.Metric.Alert, ev.Time, ev.Time, Name, map[string]string{
			"host": p.Host, "metric": p.Name, "value": stream.F(p.Value), "expected": stream.F(r.Forecast),
			"z": stream.F(r.Z), "score": stream.F(r.Score), "beyond_range": strconv.FormatBool(r.Range)},
		[]string{ev.ID})}
}

func (d *Detector) heartbeat(ev stream.Event, p schemas.Heartbeat) []stream.Finding {
	if d.s.HBClocks.Observe(ev.Tenant, ev.Time) {
		d.s.Late++
		return nil
	}
	h := d.s.Hosts.Get(stream.Key(ev.Tenant, p.Host), ev.Time)
	if ev.Time.After(h.Last) {
		h.Last, h.LastID, h.Alerted = ev.Time, ev.ID, false
	}
	h.Interval = max(h.Interval, time.Duration(p.IntervalMS)*time.Millisecond)
	return d.scanSilent(ev.Tenant)
}

// scanSilent judges tenant's hosts at most once per second of its
// heartbeat time.
func (d *Detector) scanSilent(tenant string) []stream.Finding {
	wm := d.s.HBClocks.Watermark(tenant)
	if wm.Sub(d.s.LastScan[tenant]) < time.Second {
		return nil
	}
	d.s.LastScan[tenant] = wm
	var out []stream.Finding
	d.s.Hosts.EachTenant(tenant, func(key string, h *host) {
		due := time.Duration(d.cfg.SilentAfter * float64(h.Interval))
		if h.Alerted || wm.Sub(h.Last) <= due {
			return
		}
		h.Alerted = true
		_, name := stream.SplitKey(key)
		out = append(out, stream.NewFinding(tenant, KindSilentHost, schemas.FamilyTelemetry, schemas.Entity{Type: "host", ID: name},
			wm.Sub(h.Last).Seconds()/due.Seconds(), h.Last, wm, Name, map[string]string{
				"last_heartbeat": h.Last.Format(time.RFC3339), "interval": h.Interval.String(), "silent_for": wm.Sub(h.Last).String()},
			[]string{h.LastID}))
	})
	return out
}

// ClampClocks restarts the tenant clocks after notAfter; see
// stream.Detector.
func (d *Detector) ClampClocks(notAfter time.Time) []string {
	out := append(d.s.Clocks.Clamp(notAfter), d.s.HBClocks.Clamp(notAfter)...)
	slices.Sort(out)
	return slices.Compact(out)
}

// Snapshot encodes the whole state as JSON.
func (d *Detector) Snapshot() ([]byte, error) { return json.Marshal(&d.s) }

// Restore replaces the state with a snapshot.
func (d *Detector) Restore(data []byte) error {
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("teledetect: restore: %w", err)
	}
	d.s = s
	d.reset()
	return nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
