// Package robust scores one numeric series at a time against a baseline it
// learns as it goes: a damped Holt level-and-trend forecast (plus an optional
// seasonal profile) and a robust scale of the residuals. It is the metric
// detector's algorithm and the one tributary-detect runs over a CSV: one
// streaming pass, O(1) work and memory per point, no look-ahead.
//
// Why this shape: a fixed threshold fails on series of different levels; a
// plain mean/stddev baseline is dragged by the very spikes it should flag.
// Here observations update the baseline only after being clipped to
// being checked: a point beyond ±Clip sigmas moves neither level nor scale
// (the forecast coasts), so a burst cannot hide itself, while a slow daily
// rhythm is followed by the trend term (or, with Period set, the seasonal
// profile). A shift that persists for RegimeAfter points is accepted as
// the new normal instead of alerting forever.
package robust

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Config tunes the scorer; zero fields take the defaults of WithDefaults.
type Config struct {
	Alpha       float64       // level smoothing (default 0.2)
	Beta        float64       // trend smoothing (default 0.05); negative disables the trend
	Phi         float64       // trend damping per step (default 0.9)
	ScaleAlpha  float64       // smoothing of the mean absolute residual (default 0.05)
	Clip        float64       // outlier bound in sigmas: beyond it a point does not update the baseline (default 3)
	Warmup      int           // points before any score is given (default 20)
	RegimeAfter int           // consecutive outliers after which the level is reset (default 30)
	MinRelScale float64       // sigma floor relative to |level| (default 0.001)
	Period      time.Duration // seasonal period, e.g. 24h; 0 disables the profile
	Bins        int           // seasonal bins per period (default 24)
	Gamma       float64       // seasonal smoothing (default 0.1)
	ZFloor      float64       // |z| at or below this scores 0 (default 3)
	ZScale      float64       // how fast the score approaches 1 above ZFloor (default 3)
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	def := func(v *float64, d float64) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Alpha, 0.2)
	def(&c.Beta, 0.05)
	def(&c.Phi, 0.9)
	def(&c.ScaleAlpha, 0.05)
	def(&c.Clip, 3)
	def(&c.MinRelScale, 0.001)
	def(&c.Gamma, 0.1)
	def(&c.ZFloor, 3)
	def(&c.ZScale, 3)
	if c.Warmup == 0 {
		c.Warmup = 20
	}
	if c.RegimeAfter == 0 {
		c.RegimeAfter = 30
	}
	if c.Bins == 0 {
		c.Bins = 24
	}
	if c.Beta < 0 {
		c.Beta = 0
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	unit := func(name string, v float64) {
		if v <= 0 || v > 1 {
			errs = append(errs, fmt.Errorf("robust: %s %g must be in (0, 1]", name, v))
		}
	}
	unit("Alpha", c.Alpha)
	unit("ScaleAlpha", c.ScaleAlpha)
	unit("Phi", c.Phi)
	unit("Gamma", c.Gamma)
	if c.Beta < 0 || c.Beta > 1 {
		errs = append(errs, fmt.Errorf("robust: Beta %g must be in [0, 1]", c.Beta))
	}
	if c.Clip <= 0 || c.ZFloor < 0 || c.ZScale <= 0 || c.MinRelScale < 0 {
		errs = append(errs, errors.New("robust: Clip and ZScale must be positive, ZFloor and MinRelScale not negative"))
	}
	if c.Warmup < 1 || c.RegimeAfter < 1 || c.Bins < 1 || c.Period < 0 {
		errs = append(errs, errors.New("robust: Warmup, RegimeAfter and Bins must be positive, Period not negative"))
	}
	return errors.Join(errs...)
}

// State is one series' baseline. The zero value is ready; it is plain data
// so detectors can checkpoint it.
type State struct {
	N      int       `json:"n"`
	Level  float64   `json:"level"`
	Trend  float64   `json:"trend"`
	Scale  float64   `json:"scale"` // smoothed mean absolute residual
	Run    int       `json:"run"`   // consecutive outliers
	Season []float64 `json:"season,omitempty"`
	SeenN  []int     `json:"season_n,omitempty"`
}

// Result is the verdict on one point.
type Result struct {
	Forecast float64 // what the baseline expected
	Z        float64 // residual in robust sigmas; 0 during warm-up
	Score    float64 // in [0, 1]
}

// Update scores x observed at t against the baseline, then folds it in.
func (s *State) Update(c *Config, t time.Time, x float64) Result {
	if s.N == 0 {
		s.N, s.Level = 1, x
		return Result{Forecast: x}
	}
	bin := -1
	if c.Period > 0 {
		if s.Season == nil {
			s.Season, s.SeenN = make([]float64, c.Bins), make([]int, c.Bins)
		}
		bin = int(time.Duration(t.UnixNano()%int64(c.Period)) * time.Duration(c.Bins) / c.Period)
		bin = min(max(bin, 0), c.Bins-1)
	}
	season := 0.0
	if bin >= 0 && s.SeenN[bin] > 0 {
		season = s.Season[bin]
	}
	base := s.Level + c.Phi*s.Trend
	forecast := base + season
	r := x - forecast
	sigma := max(1.2533*s.Scale, c.MinRelScale*math.Abs(s.Level), 1e-12)
	z := r / sigma
	warm := s.N < c.Warmup

	outlier := !warm && math.Abs(z) > c.Clip
	rc := r
	if outlier {
		// An outlier does not teach the baseline anything until it has
		// lasted RegimeAfter points: the level coasts on its forecast.
		rc = 0
		s.Run++
	} else {
		s.Run = 0
	}
	if s.Run >= c.RegimeAfter {
		// The shift persisted: it is the new normal.
		s.Level, s.Trend, s.Run = x-season, 0, 0
	} else {
		prev := s.Level
		s.Level = base + c.Alpha*rc
		s.Trend = c.Beta*(s.Level-prev) + (1-c.Beta)*c.Phi*s.Trend
		if !outlier {
			s.Scale += c.ScaleAlpha * (math.Abs(r) - s.Scale)
		}
		if bin >= 0 {
			dev := x - s.Level
			if outlier {
				dev = season
			}
			if s.SeenN[bin] == 0 {
				s.Season[bin] = dev
			} else {
				s.Season[bin] += c.Gamma * (dev - s.Season[bin])
			}
			s.SeenN[bin]++
		}
	}
	s.N++
	if warm {
		return Result{Forecast: forecast}
	}
	return Result{Forecast: forecast, Z: z, Score: c.ScoreOf(z)}
}

// ScoreOf maps a z-score to [0, 1]: 0 up to ZFloor, then 1 − e^(−excess/ZScale).
func (c *Config) ScoreOf(z float64) float64 {
	ex := math.Abs(z) - c.ZFloor
	if ex <= 0 || math.IsNaN(ex) {
		return 0
	}
	return 1 - math.Exp(-ex/c.ZScale)
}
