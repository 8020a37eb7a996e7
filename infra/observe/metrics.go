package observe

import (
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Outcomes of handling one message.
const (
	Acked        = "acked"         // handled; the message is acked
	Nacked       = "nacked"        // failed; it will be redelivered
	DeadLettered = "dead_lettered" // can never succeed; sent to a dead-letter destination
)

// latencyBuckets span 1 ms to ~65 s: handler attempts and ClickHouse
// flushes (an ack waits for its batch's insert).
var latencyBuckets = prometheus.ExponentialBuckets(0.001, 2, 17)

// freshnessBuckets span 10 ms to ~3 h: event time to row inserted, which
// includes how late producers send and any backlog.
var freshnessBuckets = prometheus.ExponentialBuckets(0.01, 2, 21)

// Metrics are one service's metric families.
type Metrics struct {
	service  string
	Registry *prometheus.Registry

	Messages  *prometheus.CounterVec   // handler, outcome
	Handling  *prometheus.HistogramVec // handler
	Rows      *prometheus.CounterVec   // table
	Batches   *prometheus.CounterVec   // table
	Retries   *prometheus.CounterVec   // table
	Flush     *prometheus.HistogramVec // table
	Freshness *prometheus.HistogramVec // table
	Findings  *prometheus.CounterVec   // family, kind

	lagOnce sync.Once
	lag     *lagCollector
}

// New registers the standard families, labelled with the service's name,
// plus the Go runtime and process collectors.
func New(service string) *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	c := prometheus.Labels{"service": service}
	m := &Metrics{
		service:  service,
		Registry: reg,
		Messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_messages_total", ConstLabels: c,
			Help: "Messages handled, by handler and outcome (acked, nacked, dead_lettered)."}, []string{"handler", "outcome"}),
		Handling: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_handler_seconds", ConstLabels: c,
			Help: "Time of one handler attempt, success or not.", Buckets: latencyBuckets}, []string{"handler"}),
		Rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_rows_inserted_total", ConstLabels: c,
			Help: "Rows ClickHouse acknowledged, by table."}, []string{"table"}),
		Batches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_batches_total", ConstLabels: c,
			Help: "Inserts ClickHouse acknowledged, by table."}, []string{"table"}),
		Retries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_insert_retries_total", ConstLabels: c,
			Help: "Insert attempts that failed and were retried, by table."}, []string{"table"}),
		Flush: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_flush_seconds", ConstLabels: c,
			Help: "Time of one acknowledged insert, by table.", Buckets: latencyBuckets}, []string{"table"}),
		Freshness: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "tributary_freshness_seconds", ConstLabels: c,
			Help: "From an event's time to its row inserted, by table.", Buckets: freshnessBuckets}, []string{"table"}),
		Findings: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "tributary_findings_total", ConstLabels: c,
			Help: "Anomalies found and published, by family and kind."}, []string{"family", "kind"}),
	}
	reg.MustRegister(m.Messages, m.Handling, m.Rows, m.Batches, m.Retries, m.Flush, m.Freshness, m.Findings)
	return m
}

// Handler serves the registry in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{Registry: m.Registry})
}

// Table is a table's insert metrics, as a clickhouse.BatchObserver.
type Table struct {
	rows, batches, retries prometheus.Counter
	flush, fresh           prometheus.Observer
}

// Table returns the metrics of one table's writer and sink.
func (m *Metrics) Table(name string) *Table {
	return &Table{rows: m.Rows.WithLabelValues(name), batches: m.Batches.WithLabelValues(name),
		retries: m.Retries.WithLabelValues(name), flush: m.Flush.WithLabelValues(name), fresh: m.Freshness.WithLabelValues(name)}
}

// Inserted counts an acknowledged insert of rows that took took.
func (t *Table) Inserted(rows int, took time.Duration) {
	t.rows.Add(float64(rows))
	t.batches.Inc()
	t.flush.Observe(took.Seconds())
}

// Retried counts a failed attempt that will be retried.
func (t *Table) Retried() { t.retries.Inc() }

// Fresh records how old an event was when its row was inserted.
func (t *Table) Fresh(age time.Duration) { t.fresh.Observe(max(age, 0).Seconds()) }

// PendingRows exports a table writer's buffered rows, read at each scrape.
func (m *Metrics) PendingRows(table string, read func() float64) {
	m.Registry.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "tributary_pending_rows", Help: "Rows buffered for insert, not yet acknowledged, by table.",
		ConstLabels: prometheus.Labels{"service": m.service, "table": table},
	}, read))
}
