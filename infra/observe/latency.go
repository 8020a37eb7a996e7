package observe

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// FineBuckets are 10% apart from 1µs to about 2.5 minutes: quantiles read
// from them (Summarize interpolates within a bucket) are within about 5%.
// For figures a process reports about itself, like the producer SDK's
// publish latency; service metrics use coarser buckets to keep scrapes
// small.
var FineBuckets = prometheus.ExponentialBuckets(1e-6, 1.1, 198)

// Latency is a histogram of durations that also knows its largest value:
// a Prometheus histogram (the one histogram implementation) read in
// process through Summarize. Safe for concurrent use.
type Latency struct {
	h   prometheus.Histogram
	max atomic.Int64
}

// NewLatency makes a Latency on FineBuckets unless opts has buckets.
func NewLatency(opts prometheus.HistogramOpts) *Latency {
	if opts.Buckets == nil {
		opts.Buckets = FineBuckets
	}
	if opts.Name == "" {
		opts.Name = "latency_seconds"
	}
	return &Latency{h: prometheus.NewHistogram(opts)}
}

// Observe adds one duration (negative counts as 0).
func (l *Latency) Observe(d time.Duration) {
	d = max(d, 0)
	l.h.Observe(d.Seconds())
	for {
		cur := l.max.Load()
		if int64(d) <= cur || l.max.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

// Summary reads count, mean, quantiles (never above the largest value) and
// the largest value.
func (l *Latency) Summary() Summary {
	s := Summarize(l.h)
	s.Max = time.Duration(l.max.Load())
	if s.Count > 0 {
		s.P50, s.P90, s.P99 = min(s.P50, s.Max), min(s.P90, s.Max), min(s.P99, s.Max)
	}
	return s
}

// Collector exports the histogram, for a registry.
func (l *Latency) Collector() prometheus.Collector { return l.h }
