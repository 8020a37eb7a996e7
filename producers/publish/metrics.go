package publish

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tributary-io/tributary/infra/observe"
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
	// Latency is per published event, from the Publish call (async: from
	// acceptance into the buffer, so queueing is included) until every
	// destination acked.
	Latency LatencySummary
	// Transports holds per-transport message counts and latency.
	Transports map[schemas.Transport]TransportMetrics
}

// TransportMetrics counts messages to one transport.
type TransportMetrics struct {
	Published uint64 // messages the broker acked
	Failed    uint64 // messages given up on (permanent error or retry budget spent)
	Retries   uint64 // message re-sends after a transient error
	// Latency is this transport's broker call per message, from the call
	// to the ack, retries included. It leaves out the wait in the async
	// buffer and the other destinations of the same event, which every
	// transport shares: measured from acceptance, both transports showed
	// the same queueing-dominated figures.
	Latency LatencySummary
}

// LatencySummary is read from the platform's one latency histogram
// (observe.Latency, 10% buckets): quantiles are within about 5% of the
// true value.
type LatencySummary struct {
	Count               uint64
	Mean, P50, P90, P99 time.Duration
	Max                 time.Duration
}

type metrics struct {
	published, failed, invalid atomic.Uint64
	latency                    *observe.Latency // per event

	mu         sync.Mutex // guards the map, not the counters
	transports map[schemas.Transport]*transportMetrics
}

type transportMetrics struct {
	published, failed, retries atomic.Uint64
	latency                    *observe.Latency
}

func newMetrics() *metrics {
	return &metrics{transports: map[schemas.Transport]*transportMetrics{},
		latency: observe.NewLatency(prometheus.HistogramOpts{Name: "tributary_publish_event_seconds"})}
}

func (m *metrics) transport(t schemas.Transport) *transportMetrics {
	m.mu.Lock()
	defer m.mu.Unlock()
	tm, ok := m.transports[t]
	if !ok {
		tm = &transportMetrics{latency: observe.NewLatency(prometheus.HistogramOpts{Name: "tributary_publish_seconds",
			ConstLabels: prometheus.Labels{"transport": string(t)}})}
		m.transports[t] = tm
	}
	return tm
}

func (m *metrics) snapshot() Metrics {
	s := Metrics{Published: m.published.Load(), Failed: m.failed.Load(), Invalid: m.invalid.Load(),
		Latency: summary(m.latency), Transports: map[schemas.Transport]TransportMetrics{}}
	m.mu.Lock()
	defer m.mu.Unlock()
	for t, tm := range m.transports {
		s.Transports[t] = TransportMetrics{Published: tm.published.Load(), Failed: tm.failed.Load(),
			Retries: tm.retries.Load(), Latency: summary(tm.latency)}
	}
	return s
}

func summary(l *observe.Latency) LatencySummary {
	s := l.Summary()
	return LatencySummary{Count: s.Count, Mean: s.Mean, P50: s.P50, P90: s.P90, P99: s.P99, Max: s.Max}
}
