package clickhouse_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/poll"
)

var authColumns = []string{
	"event_id", "event_type", "tenant", "source", "subject", "user_id", "source_ip", "user_agent",
	"country", "latitude", "longitude", "method", "outcome", "failure_reason", "role", "resource",
	"action", "trace_parent", "event_time", "ingest_time",
}

// authRow is one login event in authColumns order.
func authRow(id uuid.UUID, user string, at, ingest time.Time) []any {
	lat := 52.52
	return []any{
		id, "auth.login", "acme", "idp", "login", user, "203.0.113.7", "curl/8",
		"DE", &lat, nil, "password", "failure", "bad_password", "user", "/login",
		"login", "", at, ingest,
	}
}

func newAuthWriter(t *testing.T, db *testDB, cfg chinfra.BatchConfig) *chinfra.BatchWriter {
	t.Helper()
	cfg.Table, cfg.Columns = "auth_events", authColumns
	w, err := chinfra.NewBatchWriter(db.Conn, cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	w.Start(t.Context())
	t.Cleanup(func() {
		if err := w.Close(context.Background()); err != nil {
			t.Errorf("close writer: %v", err)
		}
	})
	return w
}

func TestBatchWriterFlushesBySizeAndByTime(t *testing.T) {
	db := migrated(t)
	now := time.Now().UTC().Truncate(time.Second)

	// By size: the interval is an hour, so only MaxRows can trigger the insert.
	w := newAuthWriter(t, db, chinfra.BatchConfig{MaxRows: 100, FlushInterval: time.Hour})
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := range 100 {
		wg.Go(func() { errs <- w.Write(t.Context(), authRow(uuid.New(), fmt.Sprint("u", i), now, now)...) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if s := w.Stats(); s.Batches != 1 || s.RowsWritten != 100 {
		t.Fatalf("by size: stats %+v, want one batch of 100", s)
	}

	// By time: far below MaxRows, so only the interval can trigger it.
	w2 := newAuthWriter(t, db, chinfra.BatchConfig{MaxRows: 10_000, FlushInterval: 50 * time.Millisecond})
	start := time.Now()
	if err := w2.Write(t.Context(), authRow(uuid.New(), "late", now, now)...); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 45*time.Millisecond || took > 5*time.Second {
		t.Fatalf("by time: Write returned after %s, want about the 50ms interval", took)
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM auth_events"); n != 101 {
		t.Fatalf("auth_events holds %d rows, want 101", n)
	}
}

func TestBatchWriterConcurrent20k(t *testing.T) {
	db := migrated(t)
	// Write blocks until its row is inserted, so the rows in flight are at
	// most the writers: like a consumer with 1000 unacked messages.
	w := newAuthWriter(t, db, chinfra.BatchConfig{FlushInterval: 20 * time.Millisecond})
	const writers, total = 1000, 20_000
	now := time.Now().UTC().Truncate(time.Second)
	var failed atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for g := range writers {
		wg.Go(func() {
			for i := range total / writers {
				if err := w.Write(t.Context(), authRow(uuid.New(), fmt.Sprintf("user-%d", g), now.Add(time.Duration(i)*time.Second), now)...); err != nil {
					t.Errorf("write: %v", err)
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	took := time.Since(start)
	s := w.Stats()
	t.Logf("%d rows from %d writers in %s (%.0f rows/s); batches %d, flush avg %s max %s",
		total, writers, took, total/took.Seconds(), s.Batches, s.FlushAverage, s.FlushMax)
	if failed.Load() != 0 {
		t.Fatalf("%d writes failed", failed.Load())
	}
	if n := queryUint64(t, db.Conn, "SELECT uniqExact(event_id) FROM auth_events"); n != total {
		t.Fatalf("distinct event_ids = %d, want %d", n, total)
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM auth_events"); n != total {
		t.Fatalf("rows = %d, want %d", n, total)
	}
}

func TestRedeliveredDuplicateCollapses(t *testing.T) {
	db := migrated(t)
	w := newAuthWriter(t, db, chinfra.BatchConfig{MaxRows: 1})
	id := uuid.New()
	at := time.Now().UTC().Truncate(time.Second)
	// The same event delivered twice: only ingest_time differs.
	for i, ingest := range []time.Time{at, at.Add(time.Minute)} {
		if err := w.Write(t.Context(), authRow(id, "alice", at, ingest)...); err != nil {
			t.Fatalf("delivery %d: %v", i, err)
		}
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM auth_events FINAL WHERE event_id = ?", id); n != 1 {
		t.Fatalf("FINAL sees %d rows, want 1", n)
	}
	if n := queryUint64(t, db.Conn, "SELECT uniqExact(event_id) FROM auth_events"); n != 1 {
		t.Fatalf("uniqExact = %d, want 1", n)
	}
	var ingest time.Time
	if err := db.Conn.QueryRow(t.Context(), "SELECT ingest_time FROM auth_events FINAL WHERE event_id = ?", id).Scan(&ingest); err != nil {
		t.Fatal(err)
	}
	if !ingest.Equal(at.Add(time.Minute)) {
		t.Fatalf("FINAL kept ingest_time %s, want the later copy %s", ingest, at.Add(time.Minute))
	}
	// After a merge the duplicate is gone for plain readers too.
	if err := db.Conn.Exec(t.Context(), "OPTIMIZE TABLE auth_events FINAL"); err != nil {
		t.Fatal(err)
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM auth_events"); n != 1 {
		t.Fatalf("after OPTIMIZE FINAL: %d rows, want 1", n)
	}
}

func TestPermanentErrorFailsOnlyItsRow(t *testing.T) {
	db := migrated(t)
	w, err := chinfra.NewBatchWriter(db.Conn, chinfra.BatchConfig{
		Table:         "telemetry_metrics",
		Columns:       []string{"event_id", "tenant", "host", "service", "name", "value", "unit", "labels.key", "labels.value", "event_time", "ingest_time"},
		MaxRows:       10,
		FlushInterval: time.Hour,
	}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	now := time.Now().UTC().Truncate(time.Second)
	errs := make([]error, 10)
	var wg sync.WaitGroup
	for i := range 10 {
		var value any = float64(i)
		if i == 6 {
			value = "not a number" // cannot convert to Float64
		}
		wg.Go(func() {
			errs[i] = w.Write(t.Context(), uuid.New(), "acme", "web-1", "api", "cpu", value, "%",
				[]string{"region"}, []string{"eu"}, now, now)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i == 6 {
			if !errors.Is(err, chinfra.ErrPermanent) {
				t.Errorf("bad row: err = %v, want ErrPermanent", err)
			}
			t.Logf("bad row rejected: %v", err)
		} else if err != nil {
			t.Errorf("good row %d failed: %v", i, err)
		}
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM telemetry_metrics"); n != 9 {
		t.Fatalf("telemetry_metrics holds %d rows, want 9", n)
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM telemetry_metrics WHERE has(labels.key, 'region')"); n != 9 {
		t.Fatalf("labels not stored: %d", n)
	}
}

// TestTransientOutage takes ClickHouse "down" behind a proxy while writers
// wait: they must neither fail nor return until it is back, then every row
// lands exactly once.
func TestTransientOutage(t *testing.T) {
	db := migrated(t)
	proxy := newOutageProxy(t, db.Config.Addr)
	cfg := db.Config
	cfg.Addr = proxy.Addr()
	cfg.DialTimeout = time.Second
	conn, err := chinfra.Open(t.Context(), cfg, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	w, err := chinfra.NewBatchWriter(conn, chinfra.BatchConfig{
		Table: "auth_events", Columns: authColumns,
		MaxRows: 50, FlushInterval: 10 * time.Millisecond,
		RetryMin: 20 * time.Millisecond, RetryMax: 100 * time.Millisecond, AttemptTimeout: 2 * time.Second,
	}, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })

	// Warm the pool so the outage also breaks live connections.
	now := time.Now().UTC().Truncate(time.Second)
	if err := w.Write(t.Context(), authRow(uuid.New(), "warm", now, now)...); err != nil {
		t.Fatal(err)
	}

	proxy.Down()
	const n = 200
	results := make(chan error, n)
	for i := range n {
		go func() { results <- w.Write(t.Context(), authRow(uuid.New(), fmt.Sprint("u", i), now, now)...) }()
	}
	poll.Eventually(t, 10*time.Second, 10*time.Millisecond, func() error {
		if r := w.Stats().Retries; r < 3 {
			return fmt.Errorf("only %d retries while down", r)
		}
		return nil
	})
	if len(results) != 0 {
		t.Fatalf("a Write returned during the outage: %v", <-results)
	}
	proxy.Up()

	for range n {
		if err := <-results; err != nil {
			t.Fatalf("write after outage: %v", err)
		}
	}
	s := w.Stats()
	t.Logf("outage stats: %+v", s)
	if got := queryUint64(t, db.Conn, "SELECT uniqExact(event_id) FROM auth_events"); got != n+1 {
		t.Fatalf("distinct event_ids = %d, want %d", got, n+1)
	}
	if s.RowsFailed != 0 {
		t.Fatalf("%d rows failed", s.RowsFailed)
	}
}
