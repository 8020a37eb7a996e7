package observe

import (
	"context"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// LagProbe measures one source's backlog per partition.
type LagProbe func(ctx context.Context) (map[int]int64, error)

// lagCollector asks every probe at scrape time, so the figure is as fresh
// as the scrape and costs nothing between scrapes. A probe that fails is
// left out of that scrape (and counted).
type lagCollector struct {
	desc    *prometheus.Desc
	errs    prometheus.Counter
	timeout time.Duration
	mu      sync.Mutex
	probes  map[string]LagProbe
}

func (c *lagCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc; c.errs.Describe(ch) }

func (c *lagCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	probes := make(map[string]LagProbe, len(c.probes))
	for k, v := range c.probes {
		probes[k] = v
	}
	c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
	defer cancel()
	for source, probe := range probes {
		parts, err := probe(ctx)
		if err != nil {
			c.errs.Inc()
			continue
		}
		for p, lag := range parts {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(lag), source, strconv.Itoa(p))
		}
	}
	c.errs.Collect(ch)
}

// AddLag exports a source's backlog as tributary_consumer_lag{source,
// partition}: a Kafka topic as its consumer group sees it, or a JetStream
// durable (partition 0).
func (m *Metrics) AddLag(source string, probe LagProbe) {
	m.lagOnce.Do(func() {
		c := prometheus.Labels{"service": m.service}
		m.lag = &lagCollector{timeout: 2 * time.Second, probes: map[string]LagProbe{},
			desc: prometheus.NewDesc("tributary_consumer_lag", "Messages not yet consumed, by source (Kafka topic or JetStream durable) and partition.",
				[]string{"source", "partition"}, c),
			errs: prometheus.NewCounter(prometheus.CounterOpts{Name: "tributary_consumer_lag_errors_total", ConstLabels: c,
				Help: "Scrapes where a source's lag could not be read."})}
		m.Registry.MustRegister(m.lag)
	})
	m.lag.mu.Lock()
	defer m.lag.mu.Unlock()
	m.lag.probes[source] = probe
}
