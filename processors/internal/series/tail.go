package series

import "math"

// Tail is the long-run distribution of one non-negative statistic of a
// series, kept as a log-spaced histogram whose weights fade with a
// half-life, so it follows the series' recent weeks rather than its first
// day. P tells how improbable a value is against it.
//
// Beyond its upper TailQ quantile the histogram is too thin to read, so
// the tail is modelled instead (peaks over threshold): exceedances of that
// quantile are taken as exponential, their scale read from the spread
// between it and the TailQ/4 quantile. Quantiles, unlike moments, are not
// swung by the few extreme values the tail is made of. Values far beyond
// everything seen keep getting distinct, ever smaller probabilities, which
// keeps scores from saturating.
type Tail struct {
	W     []float64 `json:"w"`     // bin weights, scaled by Inc's growth
	Total float64   `json:"total"` // their sum
	Inc   float64   `json:"inc"`   // weight of the next value: grows instead of fading the rest
	Count int       `json:"count"` // values added
}

// The bins span 10^binLo to 10^binHi; values below fall in the first bin,
// above in the last.
const (
	binLo     = -2.0
	binHi     = 4.0
	binPerDec = 16
	nBins     = int((binHi - binLo) * binPerDec)
)

// TailQ is the upper quantile from which the tail is modelled.
const TailQ = 0.02

func binOf(x float64) int {
	if !(x > 0) {
		return 0
	}
	b := int(math.Floor((math.Log10(x) - binLo) * binPerDec))
	return min(max(b, 0), nBins-1)
}

// edges holds the bins' lower edges (and the last one's upper), computed
// once: an immutable table, not state.
var edges = func() (e [nBins + 1]float64) {
	for b := range e {
		e[b] = math.Pow(10, binLo+float64(b)/binPerDec)
	}
	return e
}()

// edge is the lower edge of bin b.
func edge(b int) float64 { return edges[b] }

// binRatio is each bin's upper edge over its lower.
var binRatio = math.Pow(10, 1.0/binPerDec)

// Add folds in x with weight w, fading by half every halfLife values.
func (t *Tail) Add(x, w, halfLife float64) {
	if t.W == nil {
		*t = Tail{W: make([]float64, nBins), Inc: 1}
	}
	t.W[binOf(x)] += w * t.Inc
	t.Total += w * t.Inc
	t.Count++
	t.Inc *= math.Exp2(1 / halfLife)
	if t.Inc > 1e6 {
		// Rescale before the numbers grow out of range; ratios are kept.
		for i := range t.W {
			t.W[i] /= t.Inc
		}
		t.Total /= t.Inc
		t.Inc = 1
	}
}

// P is the probability of a value at least x. The modelled tail's scale
// is at least minScale and, for values that come in steps (counts), at
// least a step per decade of probability — once the tail holds values a
// step out: a series forecast exactly so far has no steps in its tail.
func (t *Tail) P(x, minScale, step float64) float64 {
	if t.Total <= 0 || math.IsNaN(x) {
		return 1
	}
	u := t.upper(TailQ)
	if x <= u {
		return t.below(x)
	}
	if u >= step/2 {
		minScale = max(minScale, step/math.Ln10)
	}
	scale := max((t.upper(TailQ/4)-u)/math.Log(4), minScale)
	return TailQ * math.Exp(-(x-u)/scale)
}

// upper is the value exceeded with probability q, interpolated within its
// bin.
func (t *Tail) upper(q float64) float64 {
	need := q * t.Total
	above := 0.0
	b := nBins - 1
	for ; b > 0 && above+t.W[b] < need; b-- {
		above += t.W[b]
	}
	lo, hi := edge(b), edge(b+1)
	frac := 1.0
	if t.W[b] > 0 {
		frac = min((need-above)/t.W[b], 1)
	}
	return hi * math.Pow(lo/hi, frac)
}

// below is the share of values at least x, interpolating within x's bin.
func (t *Tail) below(x float64) float64 {
	b := binOf(x)
	above := 0.0
	for i := b + 1; i < nBins; i++ {
		above += t.W[i]
	}
	lo, hi := edge(b), edge(b+1)
	frac := 1.0
	if x > lo {
		frac = math.Log(hi/x) / math.Log(binRatio)
	}
	return min(1, (above+frac*t.W[b])/t.Total)
}
