// Package robust keeps a robust baseline of one quantity — its typical
// level and spread — for detectors that compare a statistic of recent
// events with it (task run times). Every learned point teaches it,
// winsorised: a point beyond Clip sigmas counts as Clip sigmas, so an
// outlier cannot drag the level far, while a lasting change still moves
// level and spread (a spread taught only by "normal" points can only
// shrink — the ratchet this replaces). The caller decides which points to
// learn from: Z and Learn are separate so a detector can stop learning
// while its recent scores are raised, and is not taught the very change it
// should report. Metric series use package series instead.
package robust

import (
	"errors"
	"fmt"
	"math"
)

// Config tunes the baseline; zero fields take SetDefaults' values.
type Config struct {
	Alpha      float64 // level smoothing (default 0.05)
	ScaleAlpha float64 // smoothing of the absolute deviation (default 0.05)
	Clip       float64 // winsorising bound in sigmas (default 3)
	MinScale   float64 // sigma is at least this (default 1e-9)
}

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.Alpha == 0 {
		c.Alpha = 0.05
	}
	if c.ScaleAlpha == 0 {
		c.ScaleAlpha = 0.05
	}
	if c.Clip == 0 {
		c.Clip = 3
	}
	if c.MinScale == 0 {
		c.MinScale = 1e-9
	}
}

// Validate reports every problem at once.
func (c *Config) Validate() error {
	var errs []error
	for _, v := range []struct {
		name string
		x    float64
	}{{"alpha", c.Alpha}, {"scale alpha", c.ScaleAlpha}} {
		if v.x <= 0 || v.x > 1 {
			errs = append(errs, fmt.Errorf("robust: %s %g must be in (0, 1]", v.name, v.x))
		}
	}
	if !(c.Clip > 0) || !(c.MinScale > 0) {
		errs = append(errs, errors.New("robust: clip and min scale must be positive"))
	}
	return errors.Join(errs...)
}

// Baseline is one quantity's learned level and spread. The zero value is
// ready; it is plain data so detectors can checkpoint it.
type Baseline struct {
	N     int     `json:"n"` // points learned
	Level float64 `json:"level"`
	Scale float64 `json:"scale"` // smoothed absolute deviation
}

// Sigma is the spread as the standard deviation of a normal quantity.
func (b *Baseline) Sigma(c *Config) float64 { return max(1.2533*b.Scale, c.MinScale) }

// Z is how many sigmas x lies from the level; 0 before anything is learned.
func (b *Baseline) Z(c *Config, x float64) float64 {
	if b.N == 0 {
		return 0
	}
	return (x - b.Level) / b.Sigma(c)
}

// Learn folds x in.
func (b *Baseline) Learn(c *Config, x float64) {
	b.N++
	if b.N == 1 {
		b.Level = x
		return
	}
	bound := c.Clip * b.Sigma(c)
	if b.N <= 3 {
		bound = math.Inf(1) // nothing to clip against yet
	}
	r := x - b.Level
	rc := min(max(r, -bound), bound)
	// Plain means over the first points, so neither starts from a guess.
	b.Level += max(c.Alpha, 1/float64(b.N)) * rc
	b.Scale += max(c.ScaleAlpha, 1/float64(b.N-1)) * (math.Abs(rc) - b.Scale)
}
