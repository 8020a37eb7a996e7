package sim

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"time"

	"go.yaml.in/yaml/v3"
)

// Scenario is a simulated world and what goes wrong in it, as loaded from a
// YAML file (see producers/scenarios/). Zero fields take the defaults of
// WithDefaults; Validate reports every mistake at once.
type Scenario struct {
	Name     string        `yaml:"name"`
	Duration time.Duration `yaml:"duration"` // simulated time covered
	// Day is how long one simulated day lasts: the period of the daily
	// rhythm, so a 2-minute run with day: 1m sees two full days. Event
	// times still advance at the run's pace; only the rhythm is compressed.
	Day time.Duration `yaml:"day"`
	// Rhythm is the daily swing of login, task and log rates: the rate at
	// the peak is (1+Rhythm) times the mean and (1-Rhythm) at the trough.
	Rhythm   float64 `yaml:"rhythm"`
	PeakHour float64 `yaml:"peak_hour"` // hour of the simulated day with the highest rate (default 14)
	// Noise is the relative random spread of metric values and periodic
	// intervals (default 0.1).
	Noise     float64   `yaml:"noise"`
	Tenants   []Tenant  `yaml:"tenants"`
	Anomalies []Anomaly `yaml:"anomalies"`
}

// Tenant is one customer's users, hosts and workload.
type Tenant struct {
	Name      string     `yaml:"name"`
	Users     int        `yaml:"users"`    // named <tenant>-user-0001…
	Hosts     int        `yaml:"hosts"`    // named <tenant>-host-01…
	Services  []string   `yaml:"services"` // run on every host (default [api, worker])
	TaskTypes []TaskType `yaml:"task_types"`
	Metrics   []string   `yaml:"metrics"` // per host (default cpu.usage, mem.usage, req.latency_ms)
	Rates     Rates      `yaml:"rates"`
	// HeartbeatInterval is per service instance, MetricInterval per host
	// and metric (defaults 5s and 2s).
	HeartbeatInterval time.Duration `yaml:"heartbeat_interval"`
	MetricInterval    time.Duration `yaml:"metric_interval"`
}

// TaskType is a kind of background job and the queue it runs on.
type TaskType struct {
	Type        string        `yaml:"type"`
	Queue       string        `yaml:"queue"`        // default "default"
	Duration    time.Duration `yaml:"duration"`     // mean run time (default 500ms)
	FailureRate float64       `yaml:"failure_rate"` // share of attempts that fail (default 0.02)
}

// Rates are mean arrivals per second over a simulated day.
type Rates struct {
	Logins float64 `yaml:"logins"` // login attempts (1–3 auth events each)
	Tasks  float64 `yaml:"tasks"`  // task submissions (about 3 task events each)
	Logs   float64 `yaml:"logs"`   // log records
}

// Parse decodes a scenario, rejecting unknown fields (a typo must not
// silently become a default), applies defaults and validates it.
func Parse(data []byte) (Scenario, error) {
	var sc Scenario
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("scenario: %w", err)
	}
	sc = sc.WithDefaults()
	if err := sc.Validate(); err != nil {
		return Scenario{}, err
	}
	return sc, nil
}

// WithDefaults returns sc with zero fields set to their defaults.
func (sc Scenario) WithDefaults() Scenario {
	if sc.Day == 0 {
		sc.Day = 24 * time.Hour
	}
	if sc.PeakHour == 0 {
		sc.PeakHour = 14
	}
	if sc.Noise == 0 {
		sc.Noise = 0.1
	}
	ts := make([]Tenant, len(sc.Tenants))
	for i, t := range sc.Tenants {
		if t.Services == nil {
			t.Services = []string{"api", "worker"}
		}
		if t.Metrics == nil {
			t.Metrics = []string{"cpu.usage", "mem.usage", "req.latency_ms"}
		}
		if t.HeartbeatInterval == 0 {
			t.HeartbeatInterval = 5 * time.Second
		}
		if t.MetricInterval == 0 {
			t.MetricInterval = 2 * time.Second
		}
		tt := make([]TaskType, len(t.TaskTypes))
		for j, k := range t.TaskTypes {
			if k.Queue == "" {
				k.Queue = "default"
			}
			if k.Duration == 0 {
				k.Duration = 500 * time.Millisecond
			}
			if k.FailureRate == 0 {
				k.FailureRate = 0.02
			}
			tt[j] = k
		}
		t.TaskTypes = tt
		ts[i] = t
	}
	sc.Tenants = ts
	as := make([]Anomaly, len(sc.Anomalies))
	for i, a := range sc.Anomalies {
		as[i] = a.withDefaults(sc)
	}
	sc.Anomalies = as
	return sc
}

// token is what may appear in a NATS subject token and an entity id part.
var token = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

var metricName = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:.]*$`)

// Validate reports every problem at once, naming the field by its YAML path.
func (sc Scenario) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("scenario %s: %s", field, fmt.Sprintf(format, args...)))
	}
	if sc.Duration <= 0 {
		bad("duration", "must be positive, got %s", sc.Duration)
	}
	if sc.Duration > 12*time.Hour {
		// Event times must stay within the consumers' 24h MaxPast window
		// when a run is replayed faster than real time.
		bad("duration", "must be at most 12h, got %s", sc.Duration)
	}
	if sc.Day < time.Second {
		bad("day", "must be at least 1s, got %s", sc.Day)
	}
	if sc.Rhythm < 0 || sc.Rhythm >= 1 {
		bad("rhythm", "must be in [0, 1), got %g", sc.Rhythm)
	}
	if sc.PeakHour < 0 || sc.PeakHour >= 24 {
		bad("peak_hour", "must be in [0, 24), got %g", sc.PeakHour)
	}
	if sc.Noise < 0 || sc.Noise > 0.5 {
		bad("noise", "must be in [0, 0.5], got %g", sc.Noise)
	}
	if len(sc.Tenants) == 0 {
		bad("tenants", "at least one tenant is required")
	}
	seen := map[string]bool{}
	for i, t := range sc.Tenants {
		f := fmt.Sprintf("tenants[%d]", i)
		if !token.MatchString(t.Name) {
			bad(f+".name", "%q must match %s", t.Name, token)
		} else if seen[t.Name] {
			bad(f+".name", "%q is listed twice", t.Name)
		}
		seen[t.Name] = true
		errs = append(errs, t.validate(f))
	}
	for i, a := range sc.Anomalies {
		errs = append(errs, a.validate(fmt.Sprintf("anomalies[%d]", i), sc))
	}
	return errors.Join(errs...)
}

func (t Tenant) validate(f string) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("scenario %s.%s: %s", f, field, fmt.Sprintf(format, args...)))
	}
	if t.Users < 0 || t.Users > 9999 {
		bad("users", "must be in [0, 9999], got %d", t.Users)
	}
	if t.Hosts < 0 || t.Hosts > 99 {
		bad("hosts", "must be in [0, 99], got %d", t.Hosts)
	}
	if t.Rates.Logins < 0 || t.Rates.Tasks < 0 || t.Rates.Logs < 0 {
		bad("rates", "must not be negative, got %+v", t.Rates)
	}
	if t.Rates.Logins > 0 && t.Users == 0 {
		bad("rates.logins", "needs users")
	}
	if t.Rates.Tasks > 0 && (len(t.TaskTypes) == 0 || t.Hosts == 0) {
		bad("rates.tasks", "needs task_types and hosts (tasks run on hosts)")
	}
	if t.Rates.Logs > 0 && t.Hosts == 0 {
		bad("rates.logs", "needs hosts")
	}
	for i, s := range t.Services {
		if !token.MatchString(s) {
			bad(fmt.Sprintf("services[%d]", i), "%q must match %s", s, token)
		}
	}
	for i, m := range t.Metrics {
		if !metricName.MatchString(m) {
			bad(fmt.Sprintf("metrics[%d]", i), "%q is not a metric name", m)
		}
	}
	for i, k := range t.TaskTypes {
		kf := fmt.Sprintf("task_types[%d]", i)
		if k.Type == "" {
			bad(kf+".type", "is required")
		}
		if k.Duration <= 0 {
			bad(kf+".duration", "must be positive, got %s", k.Duration)
		}
		if k.FailureRate < 0 || k.FailureRate > 1 {
			bad(kf+".failure_rate", "must be in [0, 1], got %g", k.FailureRate)
		}
	}
	if t.HeartbeatInterval < 10*time.Millisecond || t.MetricInterval < 10*time.Millisecond {
		bad("heartbeat_interval", "and metric_interval must be at least 10ms, got %s and %s", t.HeartbeatInterval, t.MetricInterval)
	}
	return errors.Join(errs...)
}

// ExpectedRate is the mean events per second the scenario produces without
// its anomalies: what a load run should achieve.
func (sc Scenario) ExpectedRate() float64 {
	var r float64
	for _, t := range sc.Tenants {
		r += t.Rates.Logins*authEventsPerLogin + t.Rates.Tasks*taskEventsPerTask + t.Rates.Logs
		r += float64(t.Hosts*len(t.Services)) / t.HeartbeatInterval.Seconds()
		r += float64(t.Hosts*len(t.Metrics)) / t.MetricInterval.Seconds()
	}
	return r
}

func (sc Scenario) tenant(name string) (Tenant, int, bool) {
	for i, t := range sc.Tenants {
		if t.Name == name {
			return t, i, true
		}
	}
	return Tenant{}, -1, false
}
