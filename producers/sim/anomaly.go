package sim

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Kind names an injected anomaly; it is also the Truth record's kind.
type Kind string

const (
	BruteForceUser        Kind = "brute_force_user"        // many failed logins on one user from one IP
	CredentialStuffing    Kind = "credential_stuffing"     // one IP tries many user names
	ImpossibleTravel      Kind = "impossible_travel"       // one user logs in from two far-apart places too quickly
	MFAFatigue            Kind = "mfa_fatigue"             // a burst of denied MFA pushes, then one approved
	TaskFailureSpike      Kind = "task_failure_spike"      // a task type's failure rate jumps
	TaskLatencyRegression Kind = "task_latency_regression" // a task type's run time grows by Factor
	StuckTask             Kind = "stuck_task"              // Count tasks start and never finish
	MetricSpike           Kind = "metric_spike"            // a host metric is multiplied by Factor (> 1)
	MetricDrop            Kind = "metric_drop"             // a host metric is multiplied by Factor (< 1)
	SilentHost            Kind = "silent_host"             // a host's heartbeats, metrics and logs stop
	ErrorLogBurst         Kind = "error_log_burst"         // one service on one host logs errors at Rate
)

// Kinds lists every anomaly kind in a stable order.
func Kinds() []Kind {
	return []Kind{BruteForceUser, CredentialStuffing, ImpossibleTravel, MFAFatigue, TaskFailureSpike,
		TaskLatencyRegression, StuckTask, MetricSpike, MetricDrop, SilentHost, ErrorLogBurst}
}

// renamedKinds maps names older scenarios used to the detectors' names,
// so such a file fails with the fix in the message.
var renamedKinds = map[Kind]Kind{"brute_force": BruteForceUser, "task_failure_storm": TaskFailureSpike, "stuck_tasks": StuckTask}

// kindDefaults are each kind's duration, rate (injected events/s), factor
// and count when the scenario leaves them out.
var kindDefaults = map[Kind]struct {
	duration time.Duration
	rate     float64
	factor   float64
	count    int
}{
	BruteForceUser:        {20 * time.Second, 5, 0, 0},
	CredentialStuffing:    {20 * time.Second, 10, 0, 0},
	ImpossibleTravel:      {30 * time.Second, 0, 0, 0}, // the time between the two logins
	MFAFatigue:            {20 * time.Second, 1, 0, 0},
	TaskFailureSpike:      {30 * time.Second, 0, 0.8, 0}, // factor: failure rate in the window
	TaskLatencyRegression: {30 * time.Second, 0, 5, 0},
	StuckTask:             {10 * time.Second, 0, 0, 5}, // duration: window in which they start
	MetricSpike:           {20 * time.Second, 0, 5, 0},
	MetricDrop:            {20 * time.Second, 0, 0.05, 0},
	SilentHost:            {30 * time.Second, 0, 0, 0},
	ErrorLogBurst:         {15 * time.Second, 20, 0, 0},
}

// Anomaly is one injection: what, where and when (offsets from the start).
// Entity fields left empty are picked deterministically from the seed.
type Anomaly struct {
	Kind     Kind          `yaml:"kind"`
	Tenant   string        `yaml:"tenant"` // default: the first tenant
	At       time.Duration `yaml:"at"`
	Duration time.Duration `yaml:"duration"`
	Rate     float64       `yaml:"rate"`
	Factor   float64       `yaml:"factor"`
	Count    int           `yaml:"count"`
	// Target is a user name (auth kinds) or host name (telemetry kinds), as
	// generated: "<tenant>-user-0007", "<tenant>-host-03".
	Target   string `yaml:"target"`
	TaskType string `yaml:"task_type"` // "type" or "type/queue" (task kinds)
	Metric   string `yaml:"metric"`    // metric kinds
	Service  string `yaml:"service"`   // error_log_burst
}

func (a Anomaly) withDefaults(sc Scenario) Anomaly {
	d, ok := kindDefaults[a.Kind]
	if !ok {
		return a
	}
	if a.Tenant == "" && len(sc.Tenants) > 0 {
		a.Tenant = sc.Tenants[0].Name
	}
	if a.Duration == 0 {
		a.Duration = d.duration
	}
	if a.Rate == 0 {
		a.Rate = d.rate
	}
	if a.Factor == 0 {
		a.Factor = d.factor
	}
	if a.Count == 0 {
		a.Count = d.count
	}
	return a
}

func (a Anomaly) validate(f string, sc Scenario) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("scenario %s.%s: %s", f, field, fmt.Sprintf(format, args...)))
	}
	if _, ok := kindDefaults[a.Kind]; !ok {
		if now, ok := renamedKinds[a.Kind]; ok {
			bad("kind", "%q is now called %q (the detectors' name)", a.Kind, now)
			return errors.Join(errs...)
		}
		bad("kind", "%q is not one of %v", a.Kind, Kinds())
		return errors.Join(errs...)
	}
	t, _, ok := sc.tenant(a.Tenant)
	if !ok {
		bad("tenant", "%q is not a tenant of the scenario", a.Tenant)
		return errors.Join(errs...)
	}
	if a.At < 0 || a.Duration <= 0 || a.At+a.Duration > sc.Duration {
		bad("at", "window %s+%s must lie within the scenario's %s", a.At, a.Duration, sc.Duration)
	}
	switch a.Kind {
	case BruteForceUser, CredentialStuffing, ImpossibleTravel, MFAFatigue:
		if t.Users == 0 {
			bad("tenant", "%s needs users", a.Kind)
		} else if a.Target != "" && !slices.Contains(userNames(t), a.Target) {
			bad("target", "%q is not a user of %s (users are named %s)", a.Target, t.Name, userName(t.Name, 0))
		}
	case TaskFailureSpike, TaskLatencyRegression, StuckTask:
		if len(t.TaskTypes) == 0 || t.Hosts == 0 {
			bad("tenant", "%s needs task_types and hosts", a.Kind)
		} else if a.TaskType != "" && taskTypeIndex(t, a.TaskType) < 0 {
			bad("task_type", "%q is not a task type of %s", a.TaskType, t.Name)
		}
	case MetricSpike, MetricDrop, SilentHost, ErrorLogBurst:
		if t.Hosts == 0 {
			bad("tenant", "%s needs hosts", a.Kind)
		} else if a.Target != "" && !slices.Contains(hostNames(t), a.Target) {
			bad("target", "%q is not a host of %s (hosts are named %s)", a.Target, t.Name, hostName(t.Name, 0))
		}
	}
	if (a.Kind == MetricSpike || a.Kind == MetricDrop) && a.Metric != "" && !slices.Contains(t.Metrics, a.Metric) {
		bad("metric", "%q is not a metric of %s (%v)", a.Metric, t.Name, t.Metrics)
	}
	if a.Kind == ErrorLogBurst && a.Service != "" && !slices.Contains(t.Services, a.Service) {
		bad("service", "%q is not a service of %s (%v)", a.Service, t.Name, t.Services)
	}
	if a.Rate < 0 || (kindDefaults[a.Kind].rate > 0 && a.Rate <= 0) {
		bad("rate", "must be positive, got %g", a.Rate)
	}
	switch {
	case a.Kind == MetricSpike && a.Factor <= 1:
		bad("factor", "a spike multiplies by more than 1, got %g", a.Factor)
	case a.Kind == MetricDrop && (a.Factor < 0 || a.Factor >= 1):
		bad("factor", "a drop multiplies by [0, 1), got %g", a.Factor)
	case a.Kind == TaskFailureSpike && (a.Factor <= 0 || a.Factor > 1):
		bad("factor", "is the failure rate in the window, in (0, 1], got %g", a.Factor)
	case a.Kind == TaskLatencyRegression && a.Factor <= 1:
		bad("factor", "a regression multiplies run time by more than 1, got %g", a.Factor)
	}
	if a.Kind == StuckTask && a.Count < 1 {
		bad("count", "must be at least 1, got %d", a.Count)
	}
	return errors.Join(errs...)
}

// Entity naming shared with the detectors: they must name what they find
// the same way for ground truth to score them.
func userName(tenant string, i int) string { return fmt.Sprintf("%s-user-%04d", tenant, i+1) }
func hostName(tenant string, i int) string { return fmt.Sprintf("%s-host-%02d", tenant, i+1) }

func userNames(t Tenant) []string {
	out := make([]string, t.Users)
	for i := range out {
		out[i] = userName(t.Name, i)
	}
	return out
}

func hostNames(t Tenant) []string {
	out := make([]string, t.Hosts)
	for i := range out {
		out[i] = hostName(t.Name, i)
	}
	return out
}

// taskTypeIndex accepts "type" (first queue with that type) or "type/queue".
func taskTypeIndex(t Tenant, s string) int {
	typ, queue, hasQueue := strings.Cut(s, "/")
	for i, k := range t.TaskTypes {
		if k.Type == typ && (!hasQueue || k.Queue == queue) {
			return i
		}
	}
	return -1
}
