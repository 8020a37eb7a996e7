package series

import (
	"math"
	"slices"
	"time"
)

// State is one series' scorer. The zero value is ready; it is plain data
// so detectors can checkpoint it. Its size is bounded: two plain models,
// a seasonal model per configured season (at most MaxBins bins, started
// only once the series has lasted the period), two histograms per model
// and at most shiftAfter recent points.
type State struct {
	N      int     `json:"n"`
	T0     float64 `json:"t0"` // unix seconds of the first point
	T      float64 `json:"t"`  // and of the latest
	Step   float64 `json:"step"`
	Last   float64 `json:"last"`
	Res    float64 `json:"res"` // smallest non-zero change seen: the series' resolution
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
	Models []Model `json:"models"`
	Active int     `json:"active"`
	// A run of points beyond shiftZ on one side (Side), kept to move the
	// level to them should it last.
	Run  int       `json:"run"`
	Side int       `json:"side"`
	RecT []float64 `json:"rec_t,omitempty"`
	RecX []float64 `json:"rec_x,omitempty"`
	// Peak is the highest recent score; it fades to 0 over Cooldown
	// points once the scores fall below half of it.
	Peak float64 `json:"peak"`
}

// Result is the verdict on one point.
type Result struct {
	Forecast float64 // what the active model expected
	Z        float64 // the residual in its sigmas
	// Raw is the point's anomaly likelihood in [0, 1]: −log10(p)/Decades,
	// p the probability, against this series' own history, of a point or
	// of a recent run at least as unusual (the smaller, times two).
	Raw float64
	// Score is Raw when the point beats every recent score (each fading
	// over Cooldown points), else 0: an alert run is reported once, at its
	// start, or again where it grows clearly worse.
	Score float64
	Alert bool // Score is at least Config.Alert
	Range bool // beyond the range seen so far by more than Config.Range
}

// Update scores x observed at t against the series so far, then learns
// from it. Points must come in time order; c must have its defaults set.
func (s *State) Update(c *Config, t time.Time, x float64) Result {
	ts := float64(t.UnixNano()) / 1e9
	if s.N == 0 {
		*s = State{N: 1, T0: ts, T: ts, Last: x, Min: x, Max: x,
			Models: []Model{{Alpha: fastAlpha, Level: x}, {Alpha: slowAlpha, Level: x}}}
		return Result{Forecast: x}
	}
	prevRes := s.Res
	if dt := ts - s.T; dt > 0 {
		if s.Step == 0 {
			s.Step = dt
		} else {
			s.Step += 0.05 * (min(dt, 4*s.Step) - s.Step)
		}
	}
	if d := math.Abs(x - s.Last); d > 1e-9*max(math.Abs(x), math.Abs(s.Last)) && (s.Res == 0 || d < s.Res) {
		s.Res = d
	}
	// A series of small counts, or a noise-free one, must not get a
	// near-zero sigma that turns its smallest possible change into a
	// huge deviation.
	floor := max(resFloor*s.Res, 1e-9*math.Abs(x), 1e-12)
	s.seasons(c, ts)

	var res Result
	p := 1.0
	for i := range s.Models {
		m := &s.Models[i]
		if !m.Ready(ts) {
			m.Learn(ts, x, 0, floor)
			continue
		}
		f := m.Forecast(ts)
		sigma := m.Sigma(ts, floor)
		z := (x - f) / sigma
		if m.N >= c.Warmup && m.mature(ts) {
			pPoint, pSust := m.Observe(c, z, s.Res/sigma)
			if i == s.Active {
				p = min(1, 2*min(pPoint, pSust))
			}
		}
		if i == s.Active {
			res.Forecast, res.Z = f, z
		}
		m.Learn(ts, x, f, floor)
	}
	if s.N >= rangeAfter {
		if e := s.exceed(x); e > c.Range && math.Abs(x-min(max(x, s.Min), s.Max)) > 2*prevRes {
			// Well beyond everything seen: an alert at least, stronger the
			// further out.
			res.Range = true
			p = min(p, math.Pow(10, -c.Alert*c.Decades)*math.Exp(-(e-c.Range)/c.Range))
		}
	}
	res.Raw = min(1, max(0, -math.Log10(p)/c.Decades))

	s.shift(ts, x, res.Z)
	s.choose(c, ts)
	s.N++
	s.T, s.Last = ts, x
	s.Min, s.Max = min(s.Min, x), max(s.Max, x)
	s.report(c, &res)
	return res
}

// report keeps a point's score only when it beats every recent score:
// trailing non-maximum suppression, so however a threshold is chosen an
// alert run is reported at its start, and again only where it grows
// clearly worse.
func (s *State) report(c *Config, res *Result) {
	res.Score = res.Raw
	if c.Cooldown > 0 {
		prev := s.Peak
		if res.Raw < prev/2 {
			// Past the incident: the peak fades.
			s.Peak -= 1 / float64(c.Cooldown)
		}
		s.Peak = max(s.Peak, res.Raw)
		if res.Raw <= prev+recordGain {
			res.Score = 0
		}
	}
	res.Alert = res.Score >= c.Alert
}

// exceed is how far x lies outside [Min, Max], in shares of its width.
// Update also wants it more than two steps of the series' resolution out:
// for small counts, a count one above the largest yet is no news.
func (s *State) exceed(x float64) float64 {
	var out float64
	switch {
	case x > s.Max:
		out = x - s.Max
	case x < s.Min:
		out = s.Min - x
	default:
		return 0
	}
	if w := s.Max - s.Min; w > 0 {
		return out / w
	}
	return math.Inf(1)
}

// shift moves every model's level to a lasting new level at once: after
// shiftAfter points in a row beyond shiftZ on one side, the median of
// those points (less each model's season) becomes the level and the trend
// is dropped. Winsorised learning gets there too, but only as fast as the
// scale grows — far too slowly on a noise-free series.
func (s *State) shift(ts, x, z float64) {
	side := 0
	switch {
	case z > shiftZ:
		side = 1
	case z < -shiftZ:
		side = -1
	}
	if side == 0 || side != s.Side {
		s.Run, s.Side, s.RecT, s.RecX = 0, side, s.RecT[:0], s.RecX[:0]
		if side == 0 {
			return
		}
	}
	s.Run++
	s.RecT, s.RecX = append(s.RecT, ts), append(s.RecX, x)
	if s.Run < shiftAfter {
		return
	}
	d := make([]float64, len(s.RecX))
	for i := range s.Models {
		m := &s.Models[i]
		if !m.Ready(ts) {
			continue
		}
		for k := range d {
			d[k] = s.RecX[k] - m.season(s.RecT[k])
		}
		slices.Sort(d)
		m.Level, m.Trend = d[len(d)/2], 0
	}
	s.Run, s.Side, s.RecT, s.RecX = 0, 0, s.RecT[:0], s.RecX[:0]
}

// seasons starts a seasonal model for each configured period once the
// series has lasted that period and its step allows at least 4 bins. It
// records for a period, then learns like the others.
func (s *State) seasons(c *Config, ts float64) {
	if s.Step <= 0 {
		return
	}
	for _, p := range c.Seasons {
		per := p.Seconds()
		if ts-s.T0 < per || s.hasSeason(per) {
			continue
		}
		bins := min(c.MaxBins, int(math.Round(per/s.Step)))
		if bins < 4 {
			continue
		}
		base := s.Models[1] // the slow plain model
		s.Models = append(s.Models, Model{Alpha: slowAlpha, Level: base.Level, Scale: base.Scale, Fit: base.Fit,
			Period: per, Since: ts, Season: make([]float64, bins)})
	}
}

func (s *State) hasSeason(per float64) bool {
	for _, m := range s.Models {
		if m.Period == per {
			return true
		}
	}
	return false
}

// choose makes the model that forecasts best (Fit) the active one,
// among those that have scored long enough to know their own deviations;
// a challenger must beat the active one clearly, so the choice does not
// flap.
func (s *State) choose(c *Config, ts float64) {
	best := s.Active
	for i := range s.Models {
		m := &s.Models[i]
		if m.Ready(ts) && s.settled(c, m) && m.Fit < switchGain*s.Models[best].Fit {
			best = i
		}
	}
	s.Active = best
}

// settled tells whether a model has scored long enough to be chosen: a
// plain one Warmup points, a seasonal one a whole period of mature
// deviations.
func (s *State) settled(c *Config, m *Model) bool {
	if m.Period == 0 {
		return m.N >= c.Warmup
	}
	return s.Step > 0 && m.Point.Count >= c.Warmup && float64(m.Point.Count) >= m.Period/s.Step
}
