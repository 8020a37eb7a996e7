package evalseries

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"
)

// The generated families cover what the public corpora showed breaking a
// detector tuned on our own simulator: sparse counts, recurring bursts,
// noise-free steps and level shifts, daily and weekly seasonality with
// holiday-like dips, slow trends with a sudden change, noisy ad-like
// rates, and series with no anomaly at all. Every series is seeded, so a
// run is reproducible; anomalies start after the probation period.
//
// Each anomaly is labelled at its onset, or over its whole span when it is
// short (the scorer's window then covers all of it).

// t0 is a Monday, so weekly patterns line up with weekdays.
var t0 = time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)

type gen struct {
	rng  *rand.Rand
	step time.Duration
	v    []float64
	lab  []Window
}

func newGen(seed uint64, n int, step time.Duration) *gen {
	return &gen{rng: rand.New(rand.NewPCG(seed, 0x7472696275)), step: step, v: make([]float64, n)}
}

func (g *gen) n() int                 { return len(g.v) }
func (g *gen) at(i int) time.Time     { return t0.Add(time.Duration(i) * g.step) }
func (g *gen) hour(i int) float64     { t := g.at(i); return float64(t.Hour()) + float64(t.Minute())/60 }
func (g *gen) weekday(i int) int      { return int(g.at(i).Weekday()) }
func (g *gen) weekend(i int) bool     { d := g.weekday(i); return d == 0 || d == 6 }
func (g *gen) perDay() int            { return int(24 * time.Hour / g.step) }
func (g *gen) frac(f float64) int     { return int(f * float64(len(g.v))) }
func (g *gen) norm() float64          { return g.rng.NormFloat64() }
func (g *gen) mark(from, to int)      { g.lab = append(g.lab, Window{from, to - 1}) }
func (g *gen) onset(i int)            { g.lab = append(g.lab, Window{i, i}) }
func (g *gen) dayStart(d int) int     { return d * g.perDay() }
func (g *gen) round(i int, q float64) { g.v[i] = math.Round(g.v[i]/q) * q }

func (g *gen) poisson(lambda float64) float64 {
	if lambda <= 0 {
		return 0
	}
	// Knuth for small rates, normal approximation for large ones.
	if lambda > 50 {
		return math.Max(0, math.Round(lambda+math.Sqrt(lambda)*g.norm()))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= g.rng.Float64()
		if p <= l {
			return float64(k)
		}
		k++
	}
}

// studentT draws from Student's t with df degrees of freedom.
func (g *gen) studentT(df int) float64 {
	chi := 0.0
	for range df {
		z := g.norm()
		chi += z * z
	}
	return g.norm() / math.Sqrt(chi/float64(df))
}

func (g *gen) done(family, name string) Labelled {
	l := Labelled{Name: name, Family: family, Values: g.v, Anomalies: g.lab, Times: make([]time.Time, len(g.v))}
	for i := range g.v {
		l.Times[i] = g.at(i)
	}
	return l
}

// diurnal is a smooth daily rhythm in [0, 1] peaking at peak o'clock.
func diurnal(hour, peak float64) float64 { return 0.5 + 0.5*math.Cos(2*math.Pi*(hour-peak)/24) }

// Generated returns every generated family's series.
func Generated() []Labelled {
	var out []Labelled
	for _, f := range []func() []Labelled{sparseCounts, recurringBursts, noiseFreeSteps, levelShifts,
		seasonalHolidays, trendChanges, noisyRates, noAnomaly} {
		out = append(out, f()...)
	}
	return out
}

func sparseCounts() []Labelled {
	const fam = "sparse_counts"
	var out []Labelled
	{ // rare events: mostly zero, then short bursts
		g := newGen(11, 5000, 5*time.Minute)
		a, b := g.frac(0.55), g.frac(0.8)
		for i := range g.v {
			lam := 0.05 * (0.5 + diurnal(g.hour(i), 14))
			switch {
			case i >= a && i < a+8:
				lam = 4
			case i >= b && i < b+5:
				lam = 6
			}
			g.v[i] = g.poisson(lam)
		}
		g.mark(a, a+8)
		g.mark(b, b+5)
		out = append(out, g.done(fam, "rare_events_bursts"))
	}
	{ // low counts with a daily rhythm: a sharp burst, then a modest sustained rise
		g := newGen(12, 8000, 5*time.Minute)
		a, b := g.frac(0.5), g.frac(0.78)
		for i := range g.v {
			lam := 0.2 + 0.8*diurnal(g.hour(i), 15)
			switch {
			case i >= a && i < a+12:
				lam = 8
			case i >= b && i < b+36:
				lam += 3
			}
			g.v[i] = g.poisson(lam)
		}
		g.mark(a, a+12)
		g.onset(b)
		out = append(out, g.done(fam, "low_counts_bursts"))
	}
	{ // social-media volume: busy counts, natural small bumps, news bursts
		g := newGen(13, 10000, 5*time.Minute)
		a, b, c := g.frac(0.4), g.frac(0.66), g.frac(0.9)
		bump := 0
		for i := range g.v {
			lam := 25 * (0.4 + 1.2*diurnal(g.hour(i), 16))
			if bump > 0 {
				lam *= 1.5
				bump--
			} else if g.rng.Float64() < 0.01 {
				bump = 2
			}
			switch {
			case i >= a && i < a+15:
				lam *= 6 * math.Exp(-float64(i-a)/6)
			case i >= b && i < b+10:
				lam *= 3.5
			case i >= c && i < c+40:
				lam *= 2
			}
			g.v[i] = g.poisson(lam)
		}
		g.mark(a, a+15)
		g.mark(b, b+10)
		g.onset(c)
		out = append(out, g.done(fam, "social_volume_bursts"))
	}
	return out
}

// cron fills a CPU-like series: base load with quantised noise and a
// burst of `width` points every `every` points.
func (g *gen) cron(base, burst float64, every, width int, i int) float64 {
	v := base + 0.4*g.norm()
	if k := i % every; k < width {
		v = burst + 3*g.norm()
	}
	return math.Max(0, v)
}

func recurringBursts() []Labelled {
	const fam = "recurring_bursts"
	var out []Labelled
	{ // a burst that does not end
		g := newGen(21, 4000, 5*time.Minute)
		a := 72*(g.frac(0.6)/72) + 0
		for i := range g.v {
			g.v[i] = g.cron(4, 55, 72, 6, i)
			if i >= a && i < a+60 {
				g.v[i] = 55 + 3*g.norm()
			}
			g.round(i, 0.1)
		}
		g.mark(a+6, a+60)
		out = append(out, g.done(fam, "cron_burst_runs_on"))
	}
	{ // the base load between bursts moves up for good
		g := newGen(22, 4000, 5*time.Minute)
		a := g.frac(0.65)
		for i := range g.v {
			base := 4.0
			if i >= a {
				base = 14
			}
			g.v[i] = g.cron(base, 55, 72, 6, i)
			g.round(i, 0.1)
		}
		g.onset(a)
		out = append(out, g.done(fam, "cron_base_shift"))
	}
	{ // one burst far above every earlier one
		g := newGen(23, 4000, 5*time.Minute)
		a := 72*(g.frac(0.7)/72) + 30
		for i := range g.v {
			g.v[i] = g.cron(4, 55, 72, 6, i)
			if i >= a && i < a+10 {
				g.v[i] = 99 + 0.5*g.norm()
			}
			g.round(i, 0.1)
		}
		g.mark(a, a+10)
		out = append(out, g.done(fam, "cron_overload"))
	}
	{ // load-balancer errors: sporadic spikes are normal, a dense patch is not
		g := newGen(24, 4000, 5*time.Minute)
		a := g.frac(0.6)
		for i := range g.v {
			p := 0.01
			if i >= a && i < a+150 {
				p = 0.2
			}
			g.v[i] = math.Max(0, 10+g.norm())
			if g.rng.Float64() < p {
				g.v[i] = 40 + 40*g.rng.Float64()
			}
		}
		g.onset(a)
		out = append(out, g.done(fam, "spike_density_rises"))
	}
	return out
}

// dailySquare is a noise-free daily level: low at night, high from 08:00 to
// 20:00, with an hour's ramp each way when ramp is set.
func dailySquare(hour, low, high float64, ramp bool) float64 {
	switch {
	case hour >= 9 && hour < 19:
		return high
	case hour >= 8 && hour < 9 && ramp:
		return low + (high-low)*(hour-8)
	case hour >= 19 && hour < 20 && ramp:
		return high - (high-low)*(hour-19)
	case hour >= 8 && hour < 20 && !ramp:
		return high
	}
	return low
}

func noiseFreeSteps() []Labelled {
	const fam = "noise_free_steps"
	var out []Labelled
	square := func(seed uint64, name string, ramp bool, mod func(g *gen, i, day int, v float64) float64, label func(g *gen)) {
		g := newGen(seed, 4032, 5*time.Minute)
		for i := range g.v {
			v := dailySquare(g.hour(i), 20, 80, ramp)
			g.v[i] = mod(g, i, i/g.perDay(), v)
		}
		label(g)
		out = append(out, g.done(fam, name))
	}
	high := func(g *gen, day int) int { return g.dayStart(day) + 9*g.perDay()/24 }
	square(31, "daily_jumps_up", true, func(g *gen, i, day int, v float64) float64 {
		if day == 10 && v > 20 {
			return v * 1.6
		}
		return v
	}, func(g *gen) { g.onset(g.dayStart(10) + 8*g.perDay()/24) })
	square(32, "daily_jumps_down", true, func(g *gen, i, day int, v float64) float64 {
		if day == 10 && v > 20 {
			return 20 + (v-20)*0.5
		}
		return v
	}, func(g *gen) { g.onset(g.dayStart(10) + 8*g.perDay()/24) })
	square(33, "daily_no_jump", false, func(g *gen, i, day int, v float64) float64 {
		if day == 9 {
			return 20
		}
		return v
	}, func(g *gen) { g.onset(g.dayStart(9) + 8*g.perDay()/24) })
	square(34, "daily_flat_middle", true, func(g *gen, i, day int, v float64) float64 {
		if i >= high(g, 8)-30 && i < high(g, 9) {
			return 50
		}
		return v
	}, func(g *gen) { g.onset(high(g, 8) - 30) })
	{ // a noise-free level that steps twice
		g := newGen(35, 3000, time.Minute)
		a, b := g.frac(0.5), g.frac(0.8)
		for i := range g.v {
			switch {
			case i >= b:
				g.v[i] = 9
			case i >= a:
				g.v[i] = 14
			default:
				g.v[i] = 10
			}
		}
		g.onset(a)
		g.onset(b)
		out = append(out, g.done(fam, "constant_steps"))
	}
	return out
}

func levelShifts() []Labelled {
	const fam = "level_shifts"
	var out []Labelled
	{ // correlated noise, the level moves up for good
		g := newGen(41, 4000, 5*time.Minute)
		a, e := g.frac(0.5), 0.0
		for i := range g.v {
			e = 0.5*e + g.norm()
			g.v[i] = 50 + e
			if i >= a {
				g.v[i] += 5
			}
		}
		g.onset(a)
		out = append(out, g.done(fam, "ar1_shift_up"))
	}
	{ // a request rate with a daily rhythm loses 40% for good
		g := newGen(42, 5000, 5*time.Minute)
		a := g.frac(0.6)
		for i := range g.v {
			g.v[i] = 200 * (0.7 + 0.6*diurnal(g.hour(i), 13)) * (1 + 0.05*g.norm())
			if i >= a {
				g.v[i] *= 0.6
			}
		}
		g.onset(a)
		out = append(out, g.done(fam, "rate_drops"))
	}
	{ // the noise grows fourfold for a while
		g := newGen(43, 4000, 5*time.Minute)
		a := g.frac(0.55)
		for i := range g.v {
			s := 1.0
			if i >= a && i < a+100 {
				s = 4
			}
			g.v[i] = 10 + s*g.norm()
		}
		g.onset(a)
		out = append(out, g.done(fam, "variance_burst"))
	}
	{ // a plateau that comes back down
		g := newGen(44, 3000, 5*time.Minute)
		a := g.frac(0.6)
		for i := range g.v {
			g.v[i] = 30 + 2*g.norm()
			if i >= a && i < a+40 {
				g.v[i] += 12
			}
		}
		g.mark(a, a+40)
		out = append(out, g.done(fam, "temporary_plateau"))
	}
	return out
}

// taxi is a city's ride demand per 30 minutes: two weekday peaks, later
// and flatter weekends.
func taxi(hour float64, weekend bool) float64 {
	if weekend {
		return 0.35 + 0.45*diurnal(hour, 14) + 0.25*math.Exp(-math.Pow((hour-1)/2, 2))
	}
	return 0.15 + 0.6*math.Exp(-math.Pow((hour-8.5)/1.8, 2)) + 0.8*math.Exp(-math.Pow((hour-19)/2.5, 2)) + 0.35*diurnal(hour, 13)
}

func seasonalHolidays() []Labelled {
	const fam = "seasonal_holidays"
	var out []Labelled
	{
		g := newGen(51, 20*7*48, 30*time.Minute)
		holiday, surge, storm := g.dayStart(7*12+3), g.dayStart(7*15+6)+9*2, g.dayStart(7*18+1)+12*2
		for i := range g.v {
			v := taxi(g.hour(i), g.weekend(i))
			if i >= holiday && i < holiday+g.perDay() {
				v = 0.8 * taxi(g.hour(i), true)
			}
			if i >= surge && i < surge+6 {
				v *= 1.6
			}
			if i >= storm && i < storm+24 {
				v *= 0.25
			}
			g.v[i] = math.Round(20000 * v * (1 + 0.04*g.norm()))
		}
		g.onset(holiday + 6*2)
		g.mark(surge, surge+6)
		g.onset(storm)
		out = append(out, g.done(fam, "taxi_demand"))
	}
	{
		g := newGen(52, 16*7*24, time.Hour)
		holiday, busySat := g.dayStart(7*10), g.dayStart(7*13+5)
		for i := range g.v {
			we := g.weekend(i)
			if i >= holiday && i < holiday+24 {
				we = true
			}
			if i >= busySat && i < busySat+24 {
				we = false
			}
			lvl := 1.0
			if we {
				lvl = 0.4
			}
			g.v[i] = 1000 * lvl * (0.3 + diurnal(g.hour(i), 12)) * (1 + 0.06*g.norm())
		}
		g.onset(holiday + 7)
		g.onset(busySat + 7)
		out = append(out, g.done(fam, "weekly_traffic"))
	}
	{
		g := newGen(53, 4032, 5*time.Minute)
		dip := g.dayStart(10) + 11*g.perDay()/24
		for i := range g.v {
			g.v[i] = (100 + 40*math.Sin(2*math.Pi*g.hour(i)/24)) * (1 + 0.03*g.norm())
			if i >= dip && i < dip+24 {
				g.v[i] *= 0.3
			}
		}
		g.mark(dip, dip+24)
		out = append(out, g.done(fam, "daily_dip"))
	}
	return out
}

func trendChanges() []Labelled {
	const fam = "trend_changes"
	var out []Labelled
	{
		g := newGen(61, 4000, 5*time.Minute)
		a := g.frac(0.7)
		for i := range g.v {
			g.v[i] = 100 + 100*float64(i)/float64(g.n()) + 3*g.norm()
			if i >= a {
				g.v[i] -= 40
			}
		}
		g.onset(a)
		out = append(out, g.done(fam, "growth_then_loss"))
	}
	{
		g := newGen(62, 4000, 5*time.Minute)
		a := g.frac(0.6)
		for i := range g.v {
			x := float64(i) / float64(g.n())
			v := 100 + 20*x
			if i >= a {
				v += 160 * (x - 0.6)
			}
			g.v[i] = v + 1.5*g.norm()
		}
		g.onset(a)
		out = append(out, g.done(fam, "slope_change"))
	}
	{ // a machine's temperature wanders, then fails and recovers
		g := newGen(63, 6000, 5*time.Minute)
		a, b := g.frac(0.6), g.frac(0.85)
		walk := 0.0
		for i := range g.v {
			walk = 0.995*walk + 0.3*g.norm()
			v := 80 + walk + 4*math.Sin(2*math.Pi*g.hour(i)/24) + 0.8*g.norm()
			switch {
			case i >= a && i < a+50:
				v -= 50 * float64(i-a) / 50
			case i >= a+50 && i < a+150:
				v -= 50
			case i >= b && i < b+4:
				v -= 25
			}
			g.v[i] = v
		}
		g.onset(a)
		g.mark(b, b+4)
		out = append(out, g.done(fam, "drift_to_failure"))
	}
	return out
}

func noisyRates() []Labelled {
	const fam = "noisy_rates"
	var out []Labelled
	{ // an ad exchange's cost per click: skewed noise, a spike and a dip
		g := newGen(71, 1600, time.Hour)
		a, b := g.frac(0.5), g.frac(0.8)
		for i := range g.v {
			v := 0.12 * (0.7 + 0.6*diurnal(g.hour(i), 20)) * math.Exp(0.15*g.norm())
			switch {
			case i == a:
				v *= 3
			case i >= b && i < b+3:
				v *= 0.3
			}
			g.v[i] = v
		}
		g.mark(a, a+1)
		g.mark(b, b+3)
		out = append(out, g.done(fam, "cpc_spike_and_dip"))
	}
	{ // heavy-tailed noise: ordinary outliers, one real spike
		g := newGen(72, 2000, time.Hour)
		a := g.frac(0.6)
		for i := range g.v {
			g.v[i] = 5 + 0.5*g.studentT(4)
			if i == a || i == a+1 {
				g.v[i] = 5 + 6
			}
		}
		g.mark(a, a+2)
		out = append(out, g.done(fam, "heavy_tail_spike"))
	}
	{ // latency doubles for a while
		g := newGen(73, 4000, 5*time.Minute)
		a := g.frac(0.7)
		for i := range g.v {
			v := 120 * math.Exp(0.25*g.norm())
			if i >= a && i < a+20 {
				v *= 2.2
			}
			g.v[i] = math.Round(v)
		}
		g.mark(a, a+20)
		out = append(out, g.done(fam, "latency_doubles"))
	}
	return out
}

func noAnomaly() []Labelled {
	const fam = "no_anomaly"
	var out []Labelled
	add := func(seed uint64, name string, n int, step time.Duration, f func(g *gen, i int) float64) {
		g := newGen(seed, n, step)
		for i := range g.v {
			g.v[i] = f(g, i)
		}
		out = append(out, g.done(fam, name))
	}
	add(81, "gaussian_noise", 4000, 5*time.Minute, func(g *gen, i int) float64 { return 20 + 2*g.norm() })
	e := 0.0
	add(82, "ar1_noise", 4000, 5*time.Minute, func(g *gen, i int) float64 { e = 0.9*e + g.norm(); return e })
	add(83, "perfect_square_wave", 4032, 5*time.Minute, func(g *gen, i int) float64 { return dailySquare(g.hour(i), 20, 80, false) })
	add(84, "daily_small_noise", 4032, 5*time.Minute, func(g *gen, i int) float64 {
		return dailySquare(g.hour(i), 20, 80, true) + 2*g.rng.Float64()
	})
	add(85, "flatline", 4000, 5*time.Minute, func(g *gen, i int) float64 { return 42 })
	add(86, "steady_growth", 4000, 5*time.Minute, func(g *gen, i int) float64 { return 50 + 0.02*float64(i) + 2*g.norm() })
	add(87, "sparse_counts_quiet", 6000, 5*time.Minute, func(g *gen, i int) float64 { return g.poisson(0.3 * (0.3 + diurnal(g.hour(i), 15))) })
	add(88, "heavy_tail_noise", 4000, 5*time.Minute, func(g *gen, i int) float64 { return 100 + 5*g.studentT(5) })
	add(89, "cron_bursts_quiet", 4000, 5*time.Minute, func(g *gen, i int) float64 { v := g.cron(4, 55, 72, 6, i); return math.Round(v*10) / 10 })
	return out
}

// Check reports a generated series whose labels fall in the probation
// period or outside the series: a generator bug, not a detector's.
func Check(ls []Labelled) error {
	for _, l := range ls {
		for _, a := range l.Anomalies {
			if a.Start < Probation(l.Len()) || a.End >= l.Len() || a.End < a.Start {
				return fmt.Errorf("series %s: label %v outside [probation %d, %d)", l.Name, a, Probation(l.Len()), l.Len())
			}
		}
	}
	return nil
}
