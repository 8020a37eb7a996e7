package publish

import (
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// Metrics is a point-in-time copy of a client's counters. The client keeps
// its own counters (no global registry), so two clients in one process —
// or one test per client — never see each other's numbers; export them to
// any metrics system by polling Client.Metrics.
type Metrics struct {
	// Events counts Publish/PublishAsync calls that completed: Published
	// when every destination acked, Failed otherwise (Invalid of them
	// because the event broke its contract or had no route).
	Published uint64
	Failed    uint64
	Invalid   uint64
	// Transports holds per-transport message counts and latency.
	Transports map[schemas.Transport]TransportMetrics
}

// TransportMetrics counts messages to one transport.
type TransportMetrics struct {
	Published uint64 // messages the broker acked
	Failed    uint64 // messages given up on (permanent error or retry budget spent)
	Retries   uint64 // message re-sends after a transient error
	// Latency runs from the Publish call (async: from acceptance into the
	// buffer, so queueing is included) to the broker's ack.
	Latency LatencySummary
}

// LatencySummary is read from a log-linear histogram: quantiles are within
// about 5% of the true value.
type LatencySummary struct {
	Count               uint64
	Mean, P50, P90, P99 time.Duration
	Max                 time.Duration
}

type metrics struct {
	published, failed, invalid atomic.Uint64

	mu         sync.Mutex // guards the map, not the counters
	transports map[schemas.Transport]*transportMetrics
}

type transportMetrics struct {
	published, failed, retries atomic.Uint64
	latency                    histogram
}

func newMetrics() *metrics {
	return &metrics{transports: map[schemas.Transport]*transportMetrics{}}
}

func (m *metrics) transport(t schemas.Transport) *transportMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	tm, ok := m.transports[t]
	if !ok {
		tm = &transportMetrics{}
		m.transports[t] = tm
	}
	return tm
}

func (m *metrics) snapshot() Metrics {
	s := Metrics{Published: m.published.Load(), Failed: m.failed.Load(), Invalid: m.invalid.Load(),
		Transports: map[schemas.Transport]TransportMetrics{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	for t, tm := range m.transports {
		s.Transports[t] = TransportMetrics{Published: tm.published.Load(), Failed: tm.failed.Load(),
			Retries: tm.retries.Load(), Latency: tm.latency.summary()}
	}
	return s
}

// histogram buckets durations log-linearly: subBuckets per doubling from
// 1µs, so quantiles have bounded relative error at any scale without
// knowing the range in advance. Lock-free: one atomic add per observation.
const (
	subBuckets = 16
	numBuckets = 1 + 32*subBuckets // 1µs · 2^32 ≈ 71 minutes
)

type histogram struct {
	counts   [numBuckets]atomic.Uint64
	count    atomic.Uint64
	sumNanos atomic.Uint64
	maxNanos atomic.Int64
}

func bucketOf(d time.Duration) int {
	us := float64(d) / float64(time.Microsecond)
	if us < 1 {
		return 0
	}
	return min(1+int(math.Log2(us)*subBuckets), numBuckets-1)
}

// bucketMid is a representative value of bucket i: the geometric middle.
func bucketMid(i int) time.Duration {
	if i == 0 {
		return time.Microsecond / 2
	}
	return time.Duration(float64(time.Microsecond) * math.Exp2((float64(i)-0.5)/subBuckets))
}

func (h *histogram) observe(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(d)].Add(1)
	h.count.Add(1)
	h.sumNanos.Add(uint64(d))
	for {
		cur := h.maxNanos.Load()
		if int64(d) <= cur || h.maxNanos.CompareAndSwap(cur, int64(d)) {
			return
		}
	}
}

func (h *histogram) summary() LatencySummary {
	var counts [numBuckets]uint64
	var total uint64
	for i := range h.counts {
		counts[i] = h.counts[i].Load()
		total += counts[i]
	}
	s := LatencySummary{Count: total, Max: time.Duration(h.maxNanos.Load())}
	if total == 0 {
		return s
	}
	s.Mean = time.Duration(h.sumNanos.Load() / max(h.count.Load(), 1))
	quantile := func(q float64) time.Duration {
		rank := uint64(math.Ceil(q * float64(total)))
		var seen uint64
		for i, n := range counts {
			seen += n
			if seen >= rank {
				return min(bucketMid(i), s.Max)
			}
		}
		return s.Max
	}
	s.P50, s.P90, s.P99 = quantile(0.50), quantile(0.90), quantile(0.99)
	return s
}
