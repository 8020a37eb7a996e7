package series

import (
	"errors"
	"fmt"
	"time"
)

// Config holds the settings a user may want to change. The zero value
// takes the defaults (SetDefaults), which are meant to hold on any series:
// the scorer calibrates itself on each series' own history, so nothing
// here needs tuning per series.
type Config struct {
	// Seasons are the periods tried besides the plain forecasters (default
	// 24h and 168h). A seasonal model starts once the series has lasted its
	// period and competes only after two more; an empty, non-nil slice
	// disables them.
	Seasons []time.Duration
	// MaxBins bounds a seasonal profile (default 288: 5-minute bins over a
	// day), and with it the memory of a series.
	MaxBins int
	// Warmup is the number of points a model learns before it scores
	// (default 20).
	Warmup int
	// HalfLife, in points, is how fast old deviations fade from a model's
	// long-run distribution (default 5000).
	HalfLife float64
	// Span is the number of points in the sustained-deviation average
	// (default 10).
	Span int
	// Range: a value beyond the range seen so far by this share of its
	// width is anomalous at once, at Alert or above (default 0.25).
	Range float64
	// Decades: a score of 1 means a probability of 10^-Decades (default 10).
	Decades float64
	// Alert is the score that raises an alert (default 0.5, a probability
	// of 10^-5 with the default Decades).
	Alert float64
	// Cooldown, in points, is how long a score holds off lesser ones: a
	// point scores only when it beats every score before it, each fading
	// to nothing over Cooldown points, so an alert run is reported once
	// (default 50). Negative: every point gets its own likelihood.
	Cooldown int
}

// Internal constants of the method; see the package documentation.
const (
	fastAlpha   = 0.5   // level smoothing of the fast plain model
	slowAlpha   = 0.1   // and of the slow one and the seasonal ones
	beta        = 0.05  // trend smoothing
	phi         = 0.9   // trend damping per point
	scaleAlpha  = 0.03  // smoothing of the absolute residual
	fitAlpha    = 0.003 // and of the unclipped one models are chosen by
	clip        = 3.0   // residuals are winsorised at this many sigmas
	gamma       = 0.1   // a seasonal bin's smoothing once it has seen 1/gamma periods
	shrink      = 10.0  // a bin's spread counts as many periods of the overall scale
	shiftAfter  = 12    // points in a row beyond shiftZ on one side that move the level to them
	shiftZ      = 2.0
	resFloor    = 0.1   // sigma is at least this share of the series' resolution
	prior       = 50    // weight, in points, of the assumed normal distribution a model starts from
	outlierP    = 1e-3  // a deviation this improbable is an outlier ...
	outlierW    = 0.1   // ... and teaches the distribution this much while outliers are rare ...
	outlierRate = 0.005 // ... rarer than this share of points
	rangeAfter  = 100   // points before the range seen is wide enough to judge by
	switchGain  = 0.85  // a model replaces the active one only with a fit this much better
	recordGain  = 0.05  // how much a point must beat the fading recent scores by
)

// SetDefaults fills zero fields.
func (c *Config) SetDefaults() {
	if c.Seasons == nil {
		c.Seasons = []time.Duration{24 * time.Hour, 7 * 24 * time.Hour}
	}
	if c.MaxBins == 0 {
		c.MaxBins = 288
	}
	if c.Warmup == 0 {
		c.Warmup = 20
	}
	if c.HalfLife == 0 {
		c.HalfLife = 5000
	}
	if c.Span == 0 {
		c.Span = 10
	}
	if c.Range == 0 {
		c.Range = 0.5
	}
	if c.Decades == 0 {
		c.Decades = 10
	}
	if c.Alert == 0 {
		c.Alert = 0.5
	}
	if c.Cooldown == 0 {
		c.Cooldown = 50
	}
}

// Validate reports every problem at once, by the settings' names.
func (c *Config) Validate() error {
	var errs []error
	for _, s := range c.Seasons {
		if s <= 0 {
			errs = append(errs, fmt.Errorf("season %s must be positive", s))
		}
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"warm-up", c.Warmup}, {"span", c.Span}} {
		if v.n < 1 {
			errs = append(errs, fmt.Errorf("%s %d must be at least 1", v.name, v.n))
		}
	}
	if c.MaxBins < 4 {
		errs = append(errs, fmt.Errorf("max bins %d must be at least 4", c.MaxBins))
	}
	for _, v := range []struct {
		name string
		x    float64
	}{{"half-life", c.HalfLife}, {"range", c.Range}, {"decades", c.Decades}} {
		if !(v.x > 0) {
			errs = append(errs, fmt.Errorf("%s %g must be positive", v.name, v.x))
		}
	}
	if !(c.Alert > 0 && c.Alert <= 1) {
		errs = append(errs, fmt.Errorf("alert %g must be in (0, 1]", c.Alert))
	}
	return errors.Join(errs...)
}
