package series

import "math"

// Model is one forecaster of the next value — a level with a damped trend,
// plus, for a seasonal model, a profile over one period interpolated
// between its bins — together with the long-run distribution of its own
// deviations, so that what it calls unusual is unusual for this series.
//
// Every observation teaches it, winsorised: a residual beyond clip sigmas
// counts as clip sigmas. An outlier cannot drag the level far, and the
// scale — the smoothed absolute residual — grows through a lasting change
// instead of only shrinking (a scale taught only by "normal" points can
// only fall: the ratchet this replaces).
type Model struct {
	Alpha float64 `json:"alpha"`
	Level float64 `json:"level"`
	Trend float64 `json:"trend"`
	Scale float64 `json:"scale"`
	// Fit is the smoothed absolute residual, not winsorised: how well the
	// model forecasts, big misses included, for choosing among models (a
	// winsorised scale would favour a model that misses recurring bursts
	// entirely, since it counts each miss as only clip sigmas).
	Fit float64 `json:"fit"`
	N   int     `json:"n"` // points learned since the model was ready
	// Mean is the recent average of z (Span points, winsorised): the
	// sustained deviation. Point and Sust are the distributions of |z| and |Mean|.
	Mean      float64 `json:"mean"`
	Point     Tail    `json:"point"`
	Sust      Tail    `json:"sust"`
	Outliers  float64 `json:"outliers"` // fading count of runs of outlying points
	InOutlier bool    `json:"in_outlier"`
	Seen      float64 `json:"seen"` // and of all points
	// A seasonal model's period in seconds, the unix second its profile
	// started (the first period only records), and the profile.
	Period float64   `json:"period,omitempty"`
	Since  float64   `json:"since,omitempty"`
	Season []float64 `json:"season,omitempty"`
	// Spread is the absolute residual per bin: noise often grows with the
	// level — busy hours are noisier than quiet ones, a batch job's burst
	// than the idle time around it — and one scale for the whole period
	// would call each busy hour's noise an anomaly and miss a quiet
	// hour's anomaly.
	Spread []float64 `json:"spread,omitempty"`
}

// bins returns the two profile bins around the phase of unix second ts and
// the weight of the second.
func (m *Model) bins(ts float64) (int, int, float64) {
	n := len(m.Season)
	u := math.Mod(ts, m.Period) / m.Period * float64(n)
	if u < 0 {
		u += float64(n)
	}
	b := int(u)
	f := u - float64(b)
	b %= n
	return b, (b + 1) % n, f
}

func (m *Model) season(ts float64) float64 {
	if len(m.Season) == 0 {
		return 0
	}
	b0, b1, f := m.bins(ts)
	return (1-f)*m.Season[b0] + f*m.Season[b1]
}

// periods is how many whole periods the profile has seen.
func (m *Model) periods(ts float64) float64 { return math.Floor((ts - m.Since) / m.Period) }

// Ready tells whether the model forecasts: a seasonal one once it has
// recorded a whole period.
func (m *Model) Ready(ts float64) bool { return len(m.Season) == 0 || m.periods(ts) >= 1 }

// mature tells whether the model's deviations are its own to judge by: a
// seasonal profile's first learning period is still a mean of one or two
// periods, noisier than it will be, and would widen the distribution.
func (m *Model) mature(ts float64) bool { return len(m.Season) == 0 || m.periods(ts) >= 2 }

// Forecast is the model's expectation at unix second ts.
func (m *Model) Forecast(ts float64) float64 { return m.Level + phi*m.Trend + m.season(ts) }

// Sigma is the residual scale at ts as the standard deviation of a normal
// residual (1.2533 × the mean absolute residual), at least floor. A
// seasonal model's is its bin's, shrunk towards its overall scale while
// the bin has seen few periods.
func (m *Model) Sigma(ts, floor float64) float64 {
	s := m.Scale
	if len(m.Spread) > 0 {
		b0, b1, f := m.bins(ts)
		sb := (1-f)*m.Spread[b0] + f*m.Spread[b1]
		n := min(m.periods(ts), 1/gamma)
		s = math.Sqrt((n*sb*sb + shrink*s*s) / (n + shrink))
	}
	return max(1.2533*s, floor)
}

// Learn folds x at ts in; f is what the model forecast for it.
func (m *Model) Learn(ts, x, f, floor float64) {
	if !m.Ready(ts) {
		// Recording: the profile takes the values as they come, relative
		// to a level that stays put, so one period of a periodic series
		// gives its exact shape.
		b0, b1, w := m.bins(ts)
		m.Season[b0] += (1 - w) * (x - m.Level - m.Season[b0])
		m.Season[b1] += w * (x - m.Level - m.Season[b1])
		return
	}
	m.N++
	bound := clip * m.Sigma(ts, floor)
	r := x - f
	rc := min(max(r, -bound), bound)
	prev := m.Level
	m.Level = prev + phi*m.Trend + m.Alpha*rc
	m.Trend = beta*(m.Level-prev) + (1-beta)*phi*m.Trend
	// A plain mean of the first residuals, so the scale is right from
	// the start rather than rising from zero; then fading.
	m.Scale += max(scaleAlpha, 1/float64(m.N)) * (min(math.Abs(r), bound) - m.Scale)
	m.Fit += max(fitAlpha, 1/float64(m.N)) * (math.Abs(r) - m.Fit)
	if len(m.Season) == 0 {
		return
	}
	// The profile learns the clipped deviation from the new level: a
	// plain mean over its first periods, then fading at gamma.
	dev := f + rc - m.Level
	rate := max(gamma, 1/(m.periods(ts)+1))
	b0, b1, w := m.bins(ts)
	m.Season[b0] += rate * (1 - w) * (dev - m.Season[b0])
	m.Season[b1] += rate * w * (dev - m.Season[b1])
	if m.Spread == nil {
		m.Spread = make([]float64, len(m.Season))
		for i := range m.Spread {
			m.Spread[i] = m.Scale
		}
	}
	ar := min(math.Abs(r), bound)
	m.Spread[b0] += rate * (1 - w) * (ar - m.Spread[b0])
	m.Spread[b1] += rate * w * (ar - m.Spread[b1])
}

// Observe judges deviation z against the model's own history, then adds
// it: the probabilities of so unusual a point and of so unusual a recent
// average.
func (m *Model) Observe(c *Config, z, step float64) (pPoint, pSust float64) {
	a := 2 / (float64(c.Span) + 1)
	// Winsorised, so the average tells runs of moderate deviations — a
	// shift, a slow drift, more noise — and does not echo one big spike,
	// which the point statistic already judges.
	m.Mean += a * (min(max(z, -clip), clip) - m.Mean)
	sd := math.Sqrt(a / (2 - a)) // of Mean, were z independent and normal
	pPoint = mix(&m.Point, math.Abs(z), 1, step)
	pSust = mix(&m.Sust, math.Abs(m.Mean), sd, a*step)

	// Outliers teach the distribution little while they are rare, so one
	// anomaly does not make the next look ordinary; once they recur they
	// are this series' normal and count in full.
	fade := math.Exp2(-1 / c.HalfLife)
	m.Seen = m.Seen*fade + 1
	m.Outliers *= fade
	out := min(pPoint, pSust) < outlierP
	if out && !m.InOutlier {
		m.Outliers++ // episodes, not points: a day-long anomaly is one
	}
	m.InOutlier = out
	w := min(1, max(outlierW, m.Outliers/(m.Seen+1/outlierRate)/outlierRate))
	m.Point.Add(math.Abs(z), weight(pPoint, w), c.HalfLife)
	m.Sust.Add(math.Abs(m.Mean), weight(pSust, w), c.HalfLife)
	return pPoint, pSust
}

func weight(p, w float64) float64 {
	if p < outlierP {
		return w
	}
	return 1
}

// mix weighs what the series has shown against an assumption — the
// statistic is |normal| with standard deviation sd — whose weight halves
// every prior points: a short history is judged against the assumption, a
// long one against itself, however it differs from a normal.
func mix(t *Tail, x, sd, step float64) float64 {
	ref := math.Erfc(x / sd / math.Sqrt2)
	if t.Total <= 0 {
		return ref
	}
	w0 := prior * math.Exp2(-float64(t.Count)/prior)
	return (t.Total*t.P(x, 0.35*sd, step) + w0*ref) / (t.Total + w0)
}
