package publish

import (
	"math"
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	tests := []struct {
		name          string
		values        []time.Duration
		p50, p99, max time.Duration
	}{
		{name: "empty"},
		{name: "one value", values: []time.Duration{3 * time.Millisecond}, p50: 3 * time.Millisecond, p99: 3 * time.Millisecond, max: 3 * time.Millisecond},
		{name: "uniform 1..1000ms", values: ramp(1000, time.Millisecond), p50: 500 * time.Millisecond, p99: 990 * time.Millisecond, max: time.Second},
		{name: "sub-microsecond", values: []time.Duration{100, 200}, p50: 200, p99: 200, max: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var h histogram
			for _, v := range tt.values {
				h.observe(v)
			}
			s := h.summary()
			if s.Count != uint64(len(tt.values)) || s.Max != tt.max {
				t.Fatalf("count %d max %s, want %d %s", s.Count, s.Max, len(tt.values), tt.max)
			}
			near(t, "p50", s.P50, tt.p50)
			near(t, "p99", s.P99, tt.p99)
		})
	}
}

func ramp(n int, step time.Duration) []time.Duration {
	out := make([]time.Duration, n)
	for i := range out {
		out[i] = time.Duration(i+1) * step
	}
	return out
}

// near allows the histogram's bucket error (about 5%, or half a
// microsecond below 1µs).
func near(t *testing.T, name string, got, want time.Duration) {
	t.Helper()
	if math.Abs(float64(got-want)) > 0.05*float64(want)+float64(time.Microsecond/2) {
		t.Errorf("%s = %s, want about %s", name, got, want)
	}
}
