// Package evalseries scores anomaly detectors on labelled series with the
// windowed method of the Numenta Anomaly Benchmark (Lavin & Ahmad,
// "Evaluating Real-time Anomaly Detection Algorithms — the Numenta Anomaly
// Benchmark", 2015), written here from the paper's description:
//
//   - each labelled anomaly gets a window centred on it, all windows of a
//     series together 10% of its length;
//   - a detection (score ≥ threshold) inside a window earns
//     σ(y) = 2/(1+e^{5y}) − 1 scaled to 1 at the window's left edge, where y
//     is its position relative to the window's right edge (−1 at the left
//     edge, 0 at the right): the earlier, the better; only the best
//     detection of a window counts;
//   - a window without a detection costs A_FN;
//   - every detection outside a window costs A_FP × σ(y), y its distance
//     after the previous window in window widths (−A_FP if none precedes
//     it), so alerts right after a window cost less than stray ones;
//   - the first 15% of a series (at most 750 points) is a probation
//     period where nothing is scored;
//   - the threshold is chosen once for the whole corpus, the one that
//     maximises its total, and totals are normalised so that a detector
//     that never alerts scores 0 and a perfect one 100.
package evalseries

import (
	"fmt"
	"math"
	"slices"
)

// Profile weighs the outcomes; the paper's three application profiles are
// Standard, RewardLowFP and RewardLowFN.
type Profile struct {
	Name string  `json:"name"`
	TP   float64 `json:"a_tp"` // weight of the best detection in a window
	FP   float64 `json:"a_fp"` // cost of one detection outside the windows
	FN   float64 `json:"a_fn"` // cost of a window without detection
}

// The paper's profiles.
var (
	Standard    = Profile{Name: "standard", TP: 1, FP: 0.11, FN: 1}
	RewardLowFP = Profile{Name: "reward_low_fp", TP: 1, FP: 0.22, FN: 1}
	RewardLowFN = Profile{Name: "reward_low_fn", TP: 1, FP: 0.11, FN: 2}
	Profiles    = []Profile{Standard, RewardLowFP, RewardLowFN}
)

// Window is a labelled anomaly's span of point indices, both ends included.
type Window struct {
	Start int `json:"start"`
	End   int `json:"end"`
}

// Series is one scored series: the detector's score per point and the
// windows around its labelled anomalies.
type Series struct {
	Name    string    `json:"name"`
	Family  string    `json:"family"`
	Scores  []float64 `json:"-"`
	Windows []Window  `json:"windows"`
}

// WindowFraction is the share of a series covered by its windows.
const WindowFraction = 0.10

// Windows returns the windows around anomalies given as [first, last]
// labelled point ranges of a series of n points: each window is
// WindowFraction·n / len(anomalies) points wide, centred on the anomaly's
// first point, widened to take in the whole labelled range; overlapping
// windows merge.
func Windows(n int, anomalies []Window) []Window {
	if len(anomalies) == 0 || n == 0 {
		return nil
	}
	width := int(WindowFraction * float64(n) / float64(len(anomalies)))
	var out []Window
	for _, a := range slices.SortedFunc(slices.Values(anomalies), func(x, y Window) int { return x.Start - y.Start }) {
		w := Window{Start: max(0, a.Start-width/2), End: min(n-1, max(a.Start+width/2, a.End))}
		if k := len(out) - 1; k >= 0 && w.Start <= out[k].End+1 {
			out[k].End = max(out[k].End, w.End)
			continue
		}
		out = append(out, w)
	}
	return out
}

// Probation is the number of leading points of a series of n that are not
// scored: the detector is learning.
func Probation(n int) int { return int(math.Min(math.Floor(0.15*float64(n)), 0.15*5000)) }

// sigma is the scaled sigmoid: about 1 at y = −1, 0 at y = 0, −1 from y = 3.
func sigma(y float64) float64 {
	if y > 3 {
		return -1
	}
	return 2/(1+math.Exp(5*y)) - 1
}

// point is one scorable point: its detector score and what detecting it
// is worth (unweighted σ), in a window or not.
type point struct {
	score  float64
	series int
	window int // index into the series' windows, −1 outside
	index  int
	value  float64
}

// points lists a series' scorable points.
func (s Series) points(idx int) []point {
	n := len(s.Scores)
	prob := Probation(n)
	var out []point
	w := 0
	prevEnd, prevWidth := -1, 0
	for i := prob; i < n; i++ {
		for w < len(s.Windows) && s.Windows[w].End < i {
			prevEnd, prevWidth = s.Windows[w].End, s.Windows[w].End-s.Windows[w].Start+1
			w++
		}
		p := point{score: s.Scores[i], series: idx, window: -1, index: i}
		if w < len(s.Windows) && s.Windows[w].Start <= i {
			win := s.Windows[w]
			width := float64(win.End - win.Start + 1)
			p.window = w
			p.value = sigma(-float64(win.End-i+1)/width) / sigma(-1)
		} else if prevEnd < 0 {
			p.value = -1
		} else {
			p.value = sigma(float64(i-prevEnd) / float64(max(prevWidth-1, 1)))
		}
		out = append(out, p)
	}
	return out
}

// scoredWindows counts the windows that can be scored: those not wholly
// inside the probation period.
func (s Series) scoredWindows() int {
	prob := Probation(len(s.Scores))
	k := 0
	for _, w := range s.Windows {
		if w.End >= prob {
			k++
		}
	}
	return k
}

// Outcome is a series' (or a group's) result under one profile at one
// threshold.
type Outcome struct {
	Raw        float64 `json:"raw"`
	Null       float64 `json:"null"`
	Perfect    float64 `json:"perfect"`
	Normalized float64 `json:"score"`
	Windows    int     `json:"windows"`
	Detected   int     `json:"detected"`
	FP         int     `json:"false_positives"`
	// FPAt lists the false alarms' point indices (series only).
	FPAt []int `json:"false_positive_at,omitempty"`
	// DetectedAt lists, per detected window, its best detection's index.
	DetectedAt []int `json:"detected_at,omitempty"`
}

func (o *Outcome) add(p Outcome) {
	o.Raw += p.Raw
	o.Null += p.Null
	o.Perfect += p.Perfect
	o.Windows += p.Windows
	o.Detected += p.Detected
	o.FP += p.FP
	o.normalize()
}

// normalize maps Raw so that Null is 0 and Perfect 100. Without windows
// both are 0: such a series (or group) scores 0 when silent, and each
// false alarm takes away its cost as a share of one window's swing
// (A_TP + A_FN), so it goes below 0.
func (o *Outcome) normalize() {
	if o.Perfect > o.Null {
		o.Normalized = 100 * (o.Raw - o.Null) / (o.Perfect - o.Null)
		return
	}
	o.Normalized = 100 * o.Raw / 2
}

// Evaluate scores one series at threshold th under profile p.
func (s Series) Evaluate(p Profile, th float64) Outcome {
	nw := s.scoredWindows()
	o := Outcome{Windows: nw, Null: -p.FN * float64(nw), Perfect: p.TP * float64(nw)}
	best := map[int]point{}
	for _, pt := range s.points(0) {
		if pt.score < th || math.IsNaN(pt.score) {
			continue
		}
		if pt.window < 0 {
			o.Raw += p.FP * pt.value
			o.FP++
			o.FPAt = append(o.FPAt, pt.index)
			continue
		}
		if v, ok := best[pt.window]; !ok || pt.value > v.value {
			best[pt.window] = pt
		}
	}
	for w := range len(s.Windows) {
		if v, ok := best[w]; ok {
			o.Raw += p.TP * v.value
			o.DetectedAt = append(o.DetectedAt, v.index)
		}
	}
	o.Detected = len(best)
	o.Raw -= p.FN * float64(nw-len(best))
	o.normalize()
	return o
}

// Threshold returns the threshold that maximises the corpus total under
// p: every distinct score is tried, from the highest down.
func Threshold(corpus []Series, p Profile) (float64, error) {
	var pts []point
	total := 0.0
	for i, s := range corpus {
		for _, sc := range s.Scores {
			if math.IsNaN(sc) || math.IsInf(sc, 0) {
				return 0, fmt.Errorf("series %s: score %v is not a number", s.Name, sc)
			}
		}
		pts = append(pts, s.points(i)...)
		total -= p.FN * float64(s.scoredWindows())
	}
	slices.SortFunc(pts, func(a, b point) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	// Above every score nothing is detected: the null total.
	bestTotal, bestTh := total, math.Inf(1)
	if len(pts) > 0 {
		bestTh = math.Nextafter(pts[0].score, math.Inf(1))
	}
	type key struct{ series, window int }
	got := map[key]float64{}
	for i := 0; i < len(pts); {
		th := pts[i].score
		for ; i < len(pts) && pts[i].score == th; i++ {
			pt := pts[i]
			if pt.window < 0 {
				total += p.FP * pt.value
				continue
			}
			k := key{pt.series, pt.window}
			v, ok := got[k]
			switch {
			case !ok:
				total += p.FN + p.TP*pt.value
				got[k] = pt.value
			case pt.value > v:
				total += p.TP * (pt.value - v)
				got[k] = pt.value
			}
		}
		if total > bestTotal {
			bestTotal, bestTh = total, th
		}
	}
	return bestTh, nil
}
