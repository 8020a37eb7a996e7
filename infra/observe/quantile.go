package observe

import (
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// Summary is what a histogram holds, read once: for JSON stats and logs.
type Summary struct {
	Count uint64        `json:"count"`
	Mean  time.Duration `json:"mean_ns"`
	P50   time.Duration `json:"p50_ns"`
	P90   time.Duration `json:"p90_ns"`
	P99   time.Duration `json:"p99_ns"`
	Max   time.Duration `json:"max_ns,omitempty"` // Latency only: plain histograms do not keep it
}

// Summarize reads a histogram of seconds. Quantiles are interpolated
// within their bucket, as Prometheus' histogram_quantile does, so they are
// as good as the buckets (a factor of 2 apart here): fine for stats.
func Summarize(h prometheus.Observer) Summary {
	c, ok := h.(prometheus.Metric)
	if !ok {
		return Summary{}
	}
	var m dto.Metric
	if err := c.Write(&m); err != nil || m.Histogram == nil {
		return Summary{}
	}
	hist := m.Histogram
	s := Summary{Count: hist.GetSampleCount()}
	if s.Count == 0 {
		return s
	}
	s.Mean = secs(hist.GetSampleSum() / float64(s.Count))
	s.P50, s.P90, s.P99 = secs(quantile(hist, 0.5)), secs(quantile(hist, 0.9)), secs(quantile(hist, 0.99))
	return s
}

func quantile(h *dto.Histogram, q float64) float64 {
	rank := q * float64(h.GetSampleCount())
	lower, below := 0.0, 0.0
	for _, b := range h.GetBucket() {
		n := float64(b.GetCumulativeCount())
		if n >= rank {
			upper := b.GetUpperBound()
			if n == below || math.IsInf(upper, 1) {
				return lower
			}
			return lower + (upper-lower)*(rank-below)/(n-below)
		}
		lower, below = b.GetUpperBound(), n
	}
	return lower
}

func secs(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// Value reads a counter or gauge (0 if it cannot be read).
func Value(c prometheus.Metric) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return 0
}
