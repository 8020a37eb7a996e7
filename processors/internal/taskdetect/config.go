// Package taskdetect finds trouble in task lifecycles: failure-rate spikes
// and latency regressions per (task type, queue), tasks stuck without a
// terminal event, and retry storms. Pure logic: events in, findings out.
package taskdetect

import (
	"errors"
	"time"
)

// Detector name and the anomaly kinds it emits.
const (
	Name = "taskdetect"

	KindFailureSpike      = "task_failure_spike"
	KindLatencyRegression = "task_latency_regression"
	KindStuck             = "stuck_task"
	KindRetryStorm        = "retry_storm"
)

// Config tunes the detector; zero fields take WithDefaults' values.
type Config struct {
	Lateness time.Duration // default 10s
	MaxKeys  int           // per state map (default 100,000)
	Idle     time.Duration // default 2h

	// Failure spikes: the failure share of the terminal events in the last
	// FailWindow, tested against the series' learned failure rate with a
	// binomial z-score, so a busy series needs a smaller excess than a quiet
	// one to be significant.
	FailWindow    time.Duration // default 30s
	FailMinEvents int           // default 10
	FailMinRate   float64       // default 0.25
	FailZ         float64       // default 4
	FailWarmup    int           // terminal events before the baseline is trusted (default 50)
	FailAlpha     float64       // EWMA weight of the baseline failure rate (default 0.01)

	// Latency: the median robust z of the last LatRecent log-durations
	// against the series' baseline (see package robust). The baseline
	// stops learning while that median is at least LatFreeze, until such
	// a period has lasted LatRelearn completions.
	LatRecent   int     // default 9
	LatZ        float64 // default 3
	LatFactor   float64 // and the median duration at least this times the baseline (default 1.5)
	LatWarmup   int     // default 30
	LatFreeze   float64 // default 0.5
	LatRelearn  int     // default 200
	LatWindow   time.Duration
	StuckMin    time.Duration // a task is stuck after max(StuckMin, StuckFactor × typical duration)
	StuckFactor float64       // default 20
	// StuckDefault applies while a series has no latency baseline yet.
	StuckDefault time.Duration // default 5m

	RetryWindow time.Duration // default 1m
	RetryMin    int           // default 20
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	d := func(v *time.Duration, x time.Duration) {
		if *v == 0 {
			*v = x
		}
	}
	f := func(v *float64, x float64) {
		if *v == 0 {
			*v = x
		}
	}
	i := func(v *int, x int) {
		if *v == 0 {
			*v = x
		}
	}
	d(&c.Lateness, 10*time.Second)
	i(&c.MaxKeys, 100_000)
	d(&c.Idle, 2*time.Hour)
	d(&c.FailWindow, 30*time.Second)
	i(&c.FailMinEvents, 10)
	f(&c.FailMinRate, 0.25)
	f(&c.FailZ, 4)
	i(&c.FailWarmup, 50)
	f(&c.FailAlpha, 0.01)
	i(&c.LatRecent, 9)
	f(&c.LatZ, 3)
	f(&c.LatFactor, 1.5)
	i(&c.LatWarmup, 30)
	f(&c.LatFreeze, 0.5)
	i(&c.LatRelearn, 200)
	d(&c.LatWindow, time.Minute)
	d(&c.StuckMin, 30*time.Second)
	f(&c.StuckFactor, 20)
	d(&c.StuckDefault, 5*time.Minute)
	d(&c.RetryWindow, time.Minute)
	i(&c.RetryMin, 20)
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Lateness < 0 || c.MaxKeys < 1 || c.Idle <= 0 {
		errs = append(errs, errors.New("taskdetect: Lateness must not be negative, MaxKeys and Idle must be positive"))
	}
	if c.FailWindow <= 0 || c.FailMinEvents < 1 || c.FailMinRate <= 0 || c.FailMinRate > 1 || c.FailZ <= 0 || c.FailAlpha <= 0 || c.FailAlpha > 1 {
		errs = append(errs, errors.New("taskdetect: FailWindow, FailMinEvents, FailZ positive; FailMinRate and FailAlpha in (0, 1]"))
	}
	if c.LatRecent < 1 || c.LatZ <= 0 || c.LatFactor < 1 || c.LatWarmup < 1 || c.LatWindow <= 0 || c.LatFreeze <= 0 || c.LatRelearn < 1 {
		errs = append(errs, errors.New("taskdetect: LatRecent, LatZ, LatWarmup, LatWindow, LatFreeze, LatRelearn positive; LatFactor >= 1"))
	}
	if c.StuckMin <= 0 || c.StuckFactor <= 0 || c.StuckDefault <= 0 || c.RetryWindow <= 0 || c.RetryMin < 2 {
		errs = append(errs, errors.New("taskdetect: StuckMin, StuckFactor, StuckDefault, RetryWindow positive; RetryMin >= 2"))
	}
	return errors.Join(errs...)
}
