package ingest

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// HandlerMetrics counts one handler's attempts. It is a value owned by the
// service that registered the handler, not a global registry: Snapshot is
// what an endpoint or a log line reads. Safe for concurrent use.
type HandlerMetrics struct {
	handled, failed, poisoned atomic.Uint64
	sumNS, maxNS              atomic.Int64
	buckets                   [latencyBuckets]atomic.Uint64
}

// HandlerSnapshot is a point-in-time copy of HandlerMetrics.
type HandlerSnapshot struct {
	Handled  uint64 `json:"handled"`  // attempts that succeeded (the message is acked)
	Failed   uint64 `json:"failed"`   // attempts that failed and will be retried
	Poisoned uint64 `json:"poisoned"` // attempts whose error can never clear: dead-lettered
	// Latency of one handler attempt, success or not.
	LatencyMean time.Duration `json:"latency_mean_ns"`
	LatencyP50  time.Duration `json:"latency_p50_ns"`
	LatencyP99  time.Duration `json:"latency_p99_ns"`
	LatencyMax  time.Duration `json:"latency_max_ns"`
}

// Middleware records each attempt of the handler it wraps. Put it innermost
// (after Poison) so it sees the handler's own error: isPoison classifies it.
func (m *HandlerMetrics) Middleware(isPoison func(error) bool) message.HandlerMiddleware {
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			start := time.Now()
			out, err := h(msg)
			m.observe(time.Since(start), err, isPoison)
			return out, err
		}
	}
}

func (m *HandlerMetrics) observe(d time.Duration, err error, isPoison func(error) bool) {
	switch {
	case err == nil:
		m.handled.Add(1)
	case isPoison != nil && isPoison(err):
		m.poisoned.Add(1)
	default:
		m.failed.Add(1)
	}
	ns := int64(d)
	m.sumNS.Add(ns)
	for {
		cur := m.maxNS.Load()
		if ns <= cur || m.maxNS.CompareAndSwap(cur, ns) {
			break
		}
	}
	m.buckets[bucketOf(d)].Add(1)
}

// Snapshot returns the counts and latency summary so far.
func (m *HandlerMetrics) Snapshot() HandlerSnapshot {
	s := HandlerSnapshot{
		Handled: m.handled.Load(), Failed: m.failed.Load(), Poisoned: m.poisoned.Load(),
		LatencyMax: time.Duration(m.maxNS.Load()),
	}
	var counts [latencyBuckets]uint64
	var total uint64
	for i := range counts {
		counts[i] = m.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return s
	}
	s.LatencyMean = time.Duration(m.sumNS.Load() / int64(total))
	s.LatencyP50 = min(quantile(counts, total, 0.50), s.LatencyMax)
	s.LatencyP99 = min(quantile(counts, total, 0.99), s.LatencyMax)
	return s
}

// Latency buckets grow by √2 from 10µs: 48 of them reach ~2.8 hours, and a
// quantile read from them is within ~20% — plenty for "is ingest slow".
const (
	latencyBuckets = 48
	bucketBase     = 10 * time.Microsecond
)

func bucketOf(d time.Duration) int {
	if d <= bucketBase {
		return 0
	}
	i := int(math.Ceil(2 * math.Log2(float64(d)/float64(bucketBase))))
	return min(i, latencyBuckets-1)
}

// bucketUpper is the upper bound of bucket i.
func bucketUpper(i int) time.Duration {
	return time.Duration(float64(bucketBase) * math.Pow(2, float64(i)/2))
}

func quantile(counts [latencyBuckets]uint64, total uint64, q float64) time.Duration {
	rank := uint64(math.Ceil(q * float64(total)))
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			return bucketUpper(i)
		}
	}
	return bucketUpper(latencyBuckets - 1)
}
