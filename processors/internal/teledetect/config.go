// Package teledetect finds telemetry anomalies: spikes and drops of any
// metric series against its own history (package series, the scorer
// tributary-detect runs on a CSV), hosts
// whose heartbeats stopped, and bursts of error logs per service.
package teledetect

import (
	"errors"
	"fmt"
	"time"

	"github.com/tributary-io/tributary/processors/internal/series"
)

// Detector name and the anomaly kinds it emits.
const (
	Name = "teledetect"

	KindMetricSpike   = "metric_spike"
	KindMetricDrop    = "metric_drop"
	KindSilentHost    = "silent_host"
	KindErrorLogBurst = "error_log_burst"
)

// Config tunes the detector; zero fields take WithDefaults' values.
type Config struct {
	Lateness time.Duration // default 10s
	MaxKeys  int           // per state map (default 100,000)
	Idle     time.Duration // default 2h

	// Metric scores each series; a point whose score reaches Metric.Alert
	// (series.Result.Alert) opens an incident, reported once.
	Metric series.Config
	// Cooldown: a series' incident stays open this long after its last
	// alerting point; alerts within it add to the incident, unreported.
	Cooldown time.Duration // default 1m

	// SilentAfter is k: a host is silent when the heartbeat watermark
	// passes its last heartbeat plus k times the interval it announced.
	SilentAfter float64 // default 3

	ErrWindow time.Duration // default 1m
	ErrMin    int           // error/fatal records per service in ErrWindow (default 20)
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.Lateness == 0 {
		c.Lateness = 10 * time.Second
	}
	if c.MaxKeys == 0 {
		c.MaxKeys = 100_000
	}
	if c.Idle == 0 {
		c.Idle = 2 * time.Hour
	}
	c.Metric.SetDefaults()
	if c.Cooldown == 0 {
		c.Cooldown = time.Minute
	}
	if c.SilentAfter == 0 {
		c.SilentAfter = 3
	}
	if c.ErrWindow == 0 {
		c.ErrWindow = time.Minute
	}
	if c.ErrMin == 0 {
		c.ErrMin = 20
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Lateness < 0 || c.MaxKeys < 1 || c.Idle <= 0 {
		errs = append(errs, errors.New("teledetect: Lateness must not be negative, MaxKeys and Idle must be positive"))
	}
	if err := c.Metric.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("teledetect: metric: %w", err))
	}
	if c.Cooldown <= 0 {
		errs = append(errs, errors.New("teledetect: Cooldown must be positive"))
	}
	if c.SilentAfter < 1 || c.ErrWindow <= 0 || c.ErrMin < 2 {
		errs = append(errs, errors.New("teledetect: SilentAfter >= 1, ErrWindow positive, ErrMin >= 2"))
	}
	return errors.Join(errs...)
}
