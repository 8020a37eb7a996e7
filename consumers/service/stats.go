package service

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/daemon"
	"github.com/tributary-io/tributary/infra/observe"
)

// IngestStats is what /debug/ingest serves and the periodic log line sums up.
type IngestStats struct {
	Handlers map[string]HandlerStats `json:"handlers"`
	Writers  map[string]WriterStats  `json:"writers"`
	RSSBytes uint64                  `json:"rss_bytes"` // 0 where /proc is missing
}

// HandlerStats counts one handler's attempts, read from the Prometheus
// metrics /metrics serves, so the two never disagree.
type HandlerStats struct {
	Handled  uint64 `json:"handled"`  // attempts that succeeded (the message is acked)
	Failed   uint64 `json:"failed"`   // attempts that failed and will be retried
	Poisoned uint64 `json:"poisoned"` // attempts whose error can never clear: dead-lettered
	// Latency of one handler attempt, success or not.
	Latency observe.Summary `json:"latency"`
}

// WriterStats is one table's BatchWriter counters plus its buffer fill.
type WriterStats struct {
	clickhouse.BatchStats
	BufferFill float64 `json:"buffer_fill"` // PendingRows / BufferRows
}

// stats holds the live counters of one RunIngest; nothing global.
type stats struct {
	met      *observe.Metrics
	mu       sync.Mutex
	handlers []string
	writers  map[string]*clickhouse.BatchWriter
}

func newStats(met *observe.Metrics) *stats {
	return &stats{met: met, writers: map[string]*clickhouse.BatchWriter{}}
}

// addHandler returns the middleware that counts one handler's attempts.
func (s *stats) addHandler(name string, isPoison func(error) bool) message.HandlerMiddleware {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers = append(s.handlers, name)
	return s.met.Middleware(name, isPoison)
}

// addRecorder is addHandler for a handler outside the router (ingest.Pipe).
func (s *stats) addRecorder(name string, isPoison func(error) bool) func(time.Duration, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers = append(s.handlers, name)
	return s.met.Recorder(name, isPoison)
}

func (s *stats) addWriter(table string, w *clickhouse.BatchWriter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writers[table] = w
	s.met.PendingRows(table, func() float64 { return float64(w.Stats().PendingRows) })
}

func (s *stats) snapshot(bufferRows int) IngestStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := IngestStats{Handlers: map[string]HandlerStats{}, Writers: map[string]WriterStats{}, RSSBytes: rss()}
	count := func(h, outcome string) uint64 {
		return uint64(observe.Value(s.met.Messages.WithLabelValues(h, outcome)))
	}
	for _, h := range s.handlers {
		out.Handlers[h] = HandlerStats{Handled: count(h, observe.Acked), Failed: count(h, observe.Nacked),
			Poisoned: count(h, observe.DeadLettered), Latency: observe.Summarize(s.met.Handling.WithLabelValues(h))}
	}
	for table, w := range s.writers {
		ws := w.Stats()
		out.Writers[table] = WriterStats{BatchStats: ws, BufferFill: float64(ws.PendingRows) / float64(bufferRows)}
	}
	return out
}

// serveStats starts the periodic log line and the operator endpoint
// (/metrics, /healthz, /readyz, /debug/ingest, /debug/pprof/ on HTTPAddr);
// the returned func stops the endpoint.
func serveStats(ctx context.Context, cfg IngestConfig, st *stats, health *daemon.Health, log *slog.Logger) (func() error, error) {
	if cfg.StatsInterval > 0 {
		go logStats(ctx, cfg, st, log)
	}
	return daemon.Endpoint{Addr: cfg.HTTPAddr, Metrics: st.met, Health: health, Contention: cfg.ProfileContention, Routes: map[string]http.Handler{
		"GET /debug/ingest": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(st.snapshot(cfg.BufferRows))
		}),
	}}.Serve(log)
}

// logStats logs one line per interval with totals and the busiest figures,
// so a log reader sees throughput, back-pressure and retries at a glance.
func logStats(ctx context.Context, cfg IngestConfig, st *stats, log *slog.Logger) {
	t := time.NewTicker(cfg.StatsInterval)
	defer t.Stop()
	var lastRows uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		s := st.snapshot(cfg.BufferRows)
		var rows, batches, retries, handled, failed, poisoned uint64
		var fill float64
		var flushMax time.Duration
		tables := make([]string, 0, len(s.Writers))
		for table, w := range s.Writers {
			tables = append(tables, table)
			rows, batches, retries = rows+w.RowsWritten, batches+w.Batches, retries+w.Retries
			fill, flushMax = max(fill, w.BufferFill), max(flushMax, w.FlushMax)
		}
		sort.Strings(tables)
		for _, h := range s.Handlers {
			handled, failed, poisoned = handled+h.Handled, failed+h.Failed, poisoned+h.Poisoned
		}
		log.Info("ingest: stats", "rows", rows, "rows_per_s", float64(rows-lastRows)/cfg.StatsInterval.Seconds(),
			"batches", batches, "retries", retries, "max_buffer_fill", fill, "flush_max", flushMax,
			"handled", handled, "failed", failed, "poisoned", poisoned, "rss_mib", s.RSSBytes>>20)
		lastRows = rows
	}
}

// rss reads the resident set size from /proc; 0 elsewhere.
func rss() uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}
