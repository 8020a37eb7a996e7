package evalseries

import (
	"math"
	"slices"
	"testing"
)

func TestWindows(t *testing.T) {
	tests := []struct {
		name      string
		n         int
		anomalies []Window
		want      []Window
	}{
		{"none", 1000, nil, nil},
		{"one, centred, 10% of the series", 1000, []Window{{500, 500}}, []Window{{450, 550}}},
		{"two share the 10%", 1000, []Window{{300, 300}, {700, 700}}, []Window{{275, 325}, {675, 725}}},
		{"a long label widens its window", 1000, []Window{{500, 600}}, []Window{{450, 600}}},
		{"clipped at the ends", 1000, []Window{{10, 10}, {995, 995}}, []Window{{0, 35}, {970, 999}}},
		{"overlapping windows merge", 1000, []Window{{500, 500}, {520, 520}}, []Window{{475, 545}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Windows(tt.n, tt.anomalies); !slices.Equal(got, tt.want) {
				t.Errorf("Windows = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestProbation(t *testing.T) {
	for n, want := range map[int]int{1000: 150, 4000: 600, 20000: 750} {
		if got := Probation(n); got != want {
			t.Errorf("Probation(%d) = %d, want %d", n, got, want)
		}
	}
}

// series of n points with one window [450, 550] and a score of 1 at the
// given points.
func series(n int, alerts ...int) Series {
	s := Series{Name: "s", Scores: make([]float64, n), Windows: []Window{{450, 550}}}
	for _, a := range alerts {
		s.Scores[a] = 1
	}
	return s
}

func TestEvaluate(t *testing.T) {
	tests := []struct {
		name      string
		s         Series
		p         Profile
		score     float64 // normalised
		tol       float64
		detected  int
		falsePos  int
		wantBelow bool // score below 0
	}{
		{"never alerting is 0", series(1000), Standard, 0, 1e-9, 0, 0, false},
		{"at the window's left edge is 100", series(1000, 450), Standard, 100, 1e-9, 1, 0, false},
		{"at the label (centre) less", series(1000, 500), Standard, 93.16, 0.01, 1, 0, false},
		{"at the window's end barely counts", series(1000, 550), Standard, 51.25, 0.01, 1, 0, false},
		{"only the best detection of a window counts", series(1000, 450, 500), Standard, 100, 1e-9, 1, 0, false},
		{"a stray alert before any window costs A_FP", series(1000, 300, 450), Standard, 100 - 100*0.11/2, 1e-9, 1, 1, false},
		{"an alert right after the window costs almost nothing", series(1000, 450, 552), Standard, 99.5, 0.5, 1, 1, false},
		{"reward-low-FP doubles the cost", series(1000, 300, 450), RewardLowFP, 100 - 100*0.22/2, 1e-9, 1, 1, false},
		{"alerts in probation are not scored", series(1000, 10, 140), Standard, 0, 1e-9, 0, 0, false},
		{"many false alarms go below 0", series(1000, 200, 210, 220, 230, 240, 250, 260, 270, 280, 290), Standard, -55, 1e-9, 0, 10, true},
		{"no windows and no alerts is 0", Series{Scores: make([]float64, 1000)}, Standard, 0, 1e-9, 0, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.s.Evaluate(tt.p, 0.5)
			if math.Abs(o.Normalized-tt.score) > tt.tol || o.Detected != tt.detected || o.FP != tt.falsePos {
				t.Errorf("Evaluate = score %.2f, %d detected, %d FP; want %.2f, %d, %d", o.Normalized, o.Detected, o.FP, tt.score, tt.detected, tt.falsePos)
			}
			if (o.Normalized < 0) != tt.wantBelow {
				t.Errorf("score %.2f below 0: %v, want %v", o.Normalized, o.Normalized < 0, tt.wantBelow)
			}
		})
	}
}

// TestBelowAt: a series goes below 0 where a threshold lets its false
// alarms through and its window is not caught.
func TestBelowAt(t *testing.T) {
	quiet := Series{Name: "noise", Scores: make([]float64, 1000)}
	quiet.Scores[300] = 0.4 // pages below 0.4
	caught := series(1000)
	caught.Scores[460] = 0.9
	caught.Scores[700] = 0.3 // one false alarm is outweighed by the window
	got := BelowAt([]Series{quiet, caught}, Standard, []float64{0.2, 0.35, 0.5, 0.95})
	if want := []int{1, 1, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("BelowAt = %v, want %v", got, want)
	}
}

// TestThreshold: the sweep finds the threshold that maximises the corpus
// total, one for all series, and Evaluate at it gives that total.
func TestThreshold(t *testing.T) {
	a := series(1000)
	a.Scores[460] = 0.9 // early detection
	a.Scores[700] = 0.6 // a false alarm, below it
	b := series(1000)
	b.Scores[520] = 0.7 // later detection
	b.Scores[800] = 0.65
	corpus := []Series{a, b}
	th, err := Threshold(corpus, Standard)
	if err != nil {
		t.Fatal(err)
	}
	if th != 0.7 {
		t.Errorf("threshold %v, want 0.7: both windows, no false alarm", th)
	}
	total := Outcome{}
	for _, s := range corpus {
		total.add(s.Evaluate(Standard, th))
	}
	if total.Detected != 2 || total.FP != 0 {
		t.Errorf("at %v: %+v", th, total)
	}
	// A corpus with a NaN score is refused.
	a.Scores[3] = math.NaN()
	if _, err := Threshold([]Series{a}, Standard); err == nil {
		t.Error("a NaN score was accepted")
	}
}

func TestParseScores(t *testing.T) {
	got, err := parseScores([]byte("timestamp,value,anomaly_score\n2026-01-01 00:00:00,1,0.5\n2026-01-01 00:05:00,2,0\n"), 2)
	if err != nil || !slices.Equal(got, []float64{0.5, 0}) {
		t.Errorf("parseScores = %v, %v", got, err)
	}
	if _, err := parseScores([]byte("h\n1,2,x\n"), 1); err == nil {
		t.Error("a bad score was accepted")
	}
	if _, err := parseScores([]byte("h\n1,2,0.1\n"), 2); err == nil {
		t.Error("a missing line was accepted")
	}
}

// TestGeneratedCorpus: the families are reproducible and their labels lie
// where the scorer looks.
func TestGeneratedCorpus(t *testing.T) {
	a, b := Generated(), Generated()
	if err := Check(a); err != nil {
		t.Fatal(err)
	}
	if len(a) < 20 {
		t.Fatalf("only %d generated series", len(a))
	}
	fams := map[string]int{}
	for i := range a {
		fams[a[i].Family]++
		if !slices.Equal(a[i].Values, b[i].Values) {
			t.Errorf("%s/%s differs between two runs", a[i].Family, a[i].Name)
		}
		if len(a[i].Times) != len(a[i].Values) {
			t.Errorf("%s/%s: %d times for %d values", a[i].Family, a[i].Name, len(a[i].Times), len(a[i].Values))
		}
	}
	for _, f := range []string{"sparse_counts", "recurring_bursts", "noise_free_steps", "level_shifts",
		"seasonal_holidays", "trend_changes", "noisy_rates", "no_anomaly"} {
		if fams[f] < 3 {
			t.Errorf("family %s has %d series, want at least 3", f, fams[f])
		}
	}
}
