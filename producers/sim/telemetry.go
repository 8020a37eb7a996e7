package sim

import (
	"fmt"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// metricBase is each known metric's mean and unit; others get 100 and "1".
var metricBase = map[string]struct {
	mean float64
	unit string
}{
	"cpu.usage":      {40, "%"},
	"mem.usage":      {60, "%"},
	"req.latency_ms": {120, "ms"},
}

var logLines = []struct {
	sev  schemas.Severity
	p    float64 // cumulative
	body string
}{
	{schemas.SeverityDebug, 0.10, "cache lookup key=%x"},
	{schemas.SeverityInfo, 0.90, "request handled in %dms"},
	{schemas.SeverityWarn, 0.98, "slow query took %dms"},
	{schemas.SeverityError, 1.00, "upstream returned 503 after %dms"},
}

func (r *run) setupTelemetry(ti int, t Tenant) {
	silent := r.plans(ti, SilentHost)
	quiet := func(host int, at time.Time) bool {
		for _, p := range silent {
			if p.host == host && p.active(at) {
				return true
			}
		}
		return false
	}
	start, end := r.g.start, r.g.End()
	for h := range t.Hosts {
		host := hostName(t.Name, h)
		for _, svc := range t.Services {
			src := schemas.TelemetrySource{Host: host, Service: svc}
			r.every(t.HeartbeatInterval, start, end, func(at time.Time) {
				if !quiet(h, at) {
					r.emit(at, t.Name, schemas.Heartbeat{TelemetrySource: src, IntervalMS: t.HeartbeatInterval.Milliseconds(), Version: "1.4.2"}, "")
				}
			})
		}
		agent := schemas.TelemetrySource{Host: host, Service: "agent"}
		for _, m := range t.Metrics {
			factor := r.metricFactor(ti, h, m)
			r.every(t.MetricInterval, start, end, func(at time.Time) {
				if quiet(h, at) {
					return
				}
				base, ok := metricBase[m]
				if !ok {
					base.mean, base.unit = 100, "1"
				}
				// Busy hours run hotter: the metric follows half the rhythm.
				v := base.mean * (1 + 0.5*r.g.sc.Rhythm*r.rhythm(at)) * (1 + r.g.sc.Noise*r.rng.NormFloat64()) * factor(at)
				r.emit(at, t.Name, schemas.MetricSample{TelemetrySource: agent, Name: m, Value: max(v, 0), Unit: base.unit, Kind: "gauge"}, "")
			})
		}
	}
	if t.Hosts > 0 {
		r.poisson(t.Rates.Logs, func(at time.Time) {
			h := r.rng.IntN(t.Hosts)
			if quiet(h, at) {
				return
			}
			src := schemas.TelemetrySource{Host: hostName(t.Name, h), Service: t.Services[r.rng.IntN(len(t.Services))]}
			x := r.rng.Float64()
			for _, l := range logLines {
				if x < l.p {
					r.emit(at, t.Name, schemas.LogRecord{TelemetrySource: src, Severity: l.sev,
						Body: fmt.Sprintf(l.body, r.rng.IntN(900)+10)}, "")
					return
				}
			}
		})
	}
	for _, p := range r.plans(ti, ErrorLogBurst) {
		src := schemas.TelemetrySource{Host: hostName(t.Name, p.host), Service: p.Service}
		r.every(time.Duration(float64(time.Second)/p.Rate), p.start, p.end, func(at time.Time) {
			if !quiet(p.host, at) {
				r.emit(at, t.Name, schemas.LogRecord{TelemetrySource: src, Severity: schemas.SeverityError,
					Body:       fmt.Sprintf("request failed: connection reset by peer (pool %d)", r.rng.IntN(8)),
					Attributes: map[string]string{"error.type": "ECONNRESET"}}, "")
			}
		})
	}
}

// metricFactor is the multiplier spikes and drops apply to one host metric.
func (r *run) metricFactor(ti, host int, metric string) func(time.Time) float64 {
	var ps []*plan
	for _, p := range r.plans(ti, MetricSpike, MetricDrop) {
		if p.host == host && p.Metric == metric {
			ps = append(ps, p)
		}
	}
	return func(at time.Time) float64 {
		f := 1.0
		for _, p := range ps {
			if p.active(at) {
				f *= p.Factor
			}
		}
		return f
	}
}
