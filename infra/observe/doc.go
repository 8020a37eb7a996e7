// Package observe is what a Tributary service exports for operators: a
// Prometheus registry of its own (no global state, so tests run services
// side by side), the standard metrics every consumer reports — messages
// handled per handler and outcome, handler latency, rows and flush latency
// per table, end-to-end freshness, findings per kind — and the HTTP
// handler that serves them at /metrics.
//
// Prometheus histograms are the one histogram implementation: the JSON
// stats and log lines read their quantiles from the same buckets
// (Quantile), so the figures never disagree.
//
// Why the Prometheus client rather than Watermill's components/metrics:
// the latter only covers handler and publisher counters; ClickHouse
// batches, freshness and findings need the client anyway, and one
// registry is simpler to reason about than two.
package observe
