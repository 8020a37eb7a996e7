package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/poll"
)

func newTestWriter(t *testing.T, conn *fakeConn, cfg BatchConfig) *BatchWriter {
	t.Helper()
	if cfg.Table == "" {
		cfg.Table = "t"
	}
	if cfg.Columns == nil {
		cfg.Columns = []string{"id", "n"}
	}
	w, err := newBatchWriter(conn, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = w.Close(context.Background()) })
	return w
}

// waitRetries waits until the writer has retried at least n times.
func waitRetries(t *testing.T, w *BatchWriter, n uint64) {
	t.Helper()
	poll.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		if got := w.Stats().Retries; got < n {
			return fmt.Errorf("%d of %d retries", got, n)
		}
		return nil
	})
}

// waitPending waits until at least n rows are accepted and unresolved.
func waitPending(t *testing.T, w *BatchWriter, n int64) {
	t.Helper()
	poll.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		if got := w.Stats().PendingRows; got < n {
			return fmt.Errorf("%d of %d rows pending", got, n)
		}
		return nil
	})
}

// writeAll runs one Write per row concurrently and returns their errors by row.
func writeAll(ctx context.Context, w *BatchWriter, ids []string) []error {
	errs := make([]error, len(ids))
	var wg sync.WaitGroup
	for i, id := range ids {
		wg.Go(func() { errs[i] = w.Write(ctx, id, i) })
	}
	wg.Wait()
	return errs
}

func ids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("id-%d", i)
	}
	return out
}

func TestBatchWriterFlushesBySize(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 10, FlushInterval: time.Hour})
	for i, err := range writeAll(t.Context(), w, ids(30)) {
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if got := conn.batches; len(got) != 3 || got[0] != 10 || got[1] != 10 || got[2] != 10 {
		t.Fatalf("batches = %v, want three of 10", got)
	}
	if s := w.Stats(); s.RowsWritten != 30 || s.Batches != 3 || s.PendingRows != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

// A slow insert must not hold every row behind it: up to MaxInserts
// batches are sent at once, and no more.
func TestBatchWriterKeepsInsertsInFlight(t *testing.T) {
	gate := make(chan struct{})
	conn := &fakeConn{sendGate: gate}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 10, MaxInserts: 3, FlushInterval: time.Hour})
	done := make(chan []error, 1)
	go func() { done <- writeAll(t.Context(), w, ids(50)) }()
	poll.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		conn.mu.Lock()
		defer conn.mu.Unlock()
		if conn.sending != 3 {
			return fmt.Errorf("%d inserts in flight, want 3", conn.sending)
		}
		return nil
	})
	close(gate)
	for i, err := range <-done {
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if conn.peak != 3 {
		t.Fatalf("at most %d inserts were in flight at once, want 3", conn.peak)
	}
	if got := len(conn.rows()); got != 50 {
		t.Fatalf("%d rows inserted, want 50", got)
	}
}

func TestBatchWriterFlushesByTime(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 1000, FlushInterval: 30 * time.Millisecond})
	start := time.Now()
	for _, err := range writeAll(t.Context(), w, ids(3)) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if took := time.Since(start); took < 25*time.Millisecond {
		t.Fatalf("flushed after %s, before the interval", took)
	}
	if len(conn.batches) != 1 || conn.batches[0] != 3 {
		t.Fatalf("batches = %v", conn.batches)
	}
}

func TestBatchWriterRetriesTransientFailures(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	conn := &fakeConn{prepareErr: func(int) error {
		if down.Load() {
			return refused
		}
		return nil
	}}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 100, FlushInterval: time.Millisecond, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})

	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), w, ids(50)) }()
	// Callers keep waiting while the server is down...
	waitRetries(t, w, 5)
	select {
	case errs := <-done:
		t.Fatalf("Write returned while ClickHouse was down: %v", errs[0])
	default:
	}
	// ...and succeed once it is back, with nothing failed.
	down.Store(false)
	for i, err := range <-done {
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	s := w.Stats()
	if s.RowsWritten != 50 || s.Retries < 5 || s.RowsFailed != 0 || len(conn.rows()) != 50 {
		t.Fatalf("stats = %+v, inserted %d", s, len(conn.rows()))
	}
}

func TestBatchWriterBackoffGrowsToMax(t *testing.T) {
	var times []time.Time
	conn := &fakeConn{prepareErr: func(n int) error {
		times = append(times, time.Now())
		if n <= 6 {
			return &ch.Exception{Code: 209, Message: "Timeout exceeded while reading from socket"}
		}
		return nil
	}}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 1, RetryMin: 4 * time.Millisecond, RetryMax: 16 * time.Millisecond})
	if err := w.Write(t.Context(), "a", 1); err != nil {
		t.Fatal(err)
	}
	// Waits: 4, 8, 16, 16, 16, 16 ms (±20%).
	want := []time.Duration{4, 8, 16, 16, 16, 16}
	for i, d := range want {
		gap := times[i+1].Sub(times[i])
		if lo := d * time.Millisecond * 8 / 10; gap < lo {
			t.Errorf("gap %d = %s, want >= %s", i, gap, lo)
		}
	}
}

func TestBatchWriterAppendErrorFailsOnlyItsRow(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 20, FlushInterval: time.Hour})
	rows := ids(20)
	rows[3], rows[11] = "bad", "bad"
	errs := writeAll(t.Context(), w, rows)
	for i, err := range errs {
		if rows[i] == "bad" {
			if !errors.Is(err, ErrPermanent) || !errors.Is(err, errFakeConvert) {
				t.Errorf("bad row %d: err = %v, want ErrPermanent wrapping the driver error", i, err)
			}
		} else if err != nil {
			t.Errorf("good row %d failed: %v", i, err)
		}
	}
	if got := len(conn.rows()); got != 18 {
		t.Fatalf("inserted %d rows, want 18", got)
	}
	if s := w.Stats(); s.RowsFailed != 2 || s.RowsWritten != 18 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestBatchWriterServerRejectionIsolatedBySplitting(t *testing.T) {
	conn := &fakeConn{sendErr: func(rows [][]any) error {
		for _, r := range rows {
			if r[0] == "poison" {
				return &ch.Exception{Code: 469, Message: "Constraint `c` is violated"}
			}
		}
		return nil
	}}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 64, FlushInterval: time.Hour})
	rows := ids(64)
	rows[40] = "poison"
	for i, err := range writeAll(t.Context(), w, rows) {
		if i == 40 {
			var ex *ch.Exception
			if !errors.Is(err, ErrPermanent) || !errors.As(err, &ex) || ex.Code != 469 {
				t.Errorf("poison row: err = %v", err)
			}
		} else if err != nil {
			t.Errorf("good row %d failed: %v", i, err)
		}
	}
	if got := len(conn.rows()); got != 63 {
		t.Fatalf("inserted %d, want 63", got)
	}
}

// A detached or dropped table, missing rights or a database not yet
// created make the server refuse the INSERT statement before any row is
// sent: the rows are good and must wait, not fail (issue 11, item 2).
func TestBatchWriterPrepareRejectionIsRetried(t *testing.T) {
	var attached atomic.Bool
	conn := &fakeConn{prepareErr: func(int) error {
		if !attached.Load() {
			return &ch.Exception{Code: 60, Message: "Table tributary.t doesn't exist."}
		}
		return nil
	}}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 5, FlushInterval: time.Hour, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), w, ids(5)) }()
	waitRetries(t, w, 3)
	select {
	case errs := <-done:
		t.Fatalf("Write returned while the table was missing: %v", errs)
	default:
	}
	attached.Store(true)
	for i, err := range <-done {
		if err != nil {
			t.Errorf("row %d: err = %v, want nil once the table is back", i, err)
		}
	}
	if s := w.Stats(); s.RowsFailed != 0 || s.RowsWritten != 5 {
		t.Fatalf("stats = %+v, want 5 written and none failed", s)
	}
}

// Disk full while the parts are written is reported by Send: it is the
// server's state, so the batch is retried whole, not split or failed.
func TestBatchWriterServerStateOnSendIsRetried(t *testing.T) {
	var full atomic.Bool
	full.Store(true)
	conn := &fakeConn{sendErr: func([][]any) error {
		if full.Load() {
			return &ch.Exception{Code: 243, Message: "Cannot reserve 1.00 MiB, not enough space"}
		}
		return nil
	}}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 8, FlushInterval: time.Hour, RetryMin: time.Millisecond, RetryMax: 5 * time.Millisecond})
	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), w, ids(8)) }()
	waitRetries(t, w, 3)
	full.Store(false)
	for i, err := range <-done {
		if err != nil {
			t.Errorf("row %d: err = %v, want nil once the disk has room", i, err)
		}
	}
	if conn.batches[0] != 8 {
		t.Fatalf("batches = %v: a server-state error must not split the batch", conn.batches)
	}
}

func TestBatchWriterWrongArityIsPermanent(t *testing.T) {
	w := newTestWriter(t, &fakeConn{}, BatchConfig{})
	if err := w.Write(t.Context(), "only-one"); !errors.Is(err, ErrPermanent) {
		t.Fatalf("err = %v", err)
	}
}

func TestBatchWriterBackpressure(t *testing.T) {
	gate := make(chan struct{})
	conn := &fakeConn{sendGate: gate}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 4, MaxPendingRows: 4, FlushInterval: time.Millisecond})
	first := make(chan []error)
	go func() { first <- writeAll(t.Context(), w, ids(4)) }()
	waitPending(t, w, 4)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Millisecond)
	defer cancel()
	if err := w.Write(ctx, "fifth", 5); !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "buffer space") {
		t.Fatalf("Write over the bound: err = %v, want to block until ctx ends", err)
	}
	close(gate)
	for _, err := range <-first {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Write(t.Context(), "sixth", 6); err != nil {
		t.Fatalf("after space freed: %v", err)
	}
}

func TestBatchWriterCloseFlushesAndIsIdempotent(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 1000, FlushInterval: time.Hour})
	done := make(chan []error)
	go func() { done <- writeAll(t.Context(), w, ids(7)) }()
	waitPending(t, w, 7)
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, err := range <-done {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := w.Write(t.Context(), "late", 1); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after Close: %v", err)
	}
	if len(conn.rows()) != 7 {
		t.Fatalf("inserted %d", len(conn.rows()))
	}
}

func TestBatchWriterCloseDeadlineWhileDown(t *testing.T) {
	conn := &fakeConn{prepareErr: func(int) error { return refused }}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 1, RetryMin: time.Millisecond, RetryMax: time.Millisecond})
	res := make(chan error)
	go func() { res <- w.Write(t.Context(), "a", 1) }()
	waitRetries(t, w, 3)
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if err := w.Close(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Close: %v", err)
	}
	if err := <-res; !errors.Is(err, ErrClosed) || errors.Is(err, ErrPermanent) {
		t.Fatalf("Write: err = %v, want ErrClosed and not ErrPermanent", err)
	}
	if s := w.Stats(); s.RowsAborted != 1 || s.PendingRows != 0 {
		t.Fatalf("stats = %+v", s)
	}
}

func TestBatchWriterStartContextEndStops(t *testing.T) {
	conn := &fakeConn{prepareErr: func(int) error { return refused }}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 1, RetryMin: time.Millisecond, RetryMax: time.Millisecond})
	ctx, cancel := context.WithCancel(t.Context())
	w.Start(ctx)
	res := make(chan error)
	go func() { res <- w.Write(t.Context(), "a", 1) }()
	waitRetries(t, w, 2)
	cancel()
	if err := <-res; !errors.Is(err, ErrClosed) {
		t.Fatalf("Write: %v", err)
	}
	if err := w.Write(t.Context(), "b", 2); !errors.Is(err, ErrClosed) {
		t.Fatalf("Write after stop: %v", err)
	}
}

func TestBatchWriterConcurrentFlakyServer(t *testing.T) {
	var n atomic.Int64
	conn := &fakeConn{sendErr: func([][]any) error {
		if n.Add(1)%3 == 0 {
			return fmt.Errorf("write: %w", syscall.ECONNRESET)
		}
		return nil
	}}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 97, MaxPendingRows: 500, FlushInterval: time.Millisecond, RetryMin: time.Microsecond, RetryMax: time.Millisecond})
	const writers, each = 40, 250
	var wg sync.WaitGroup
	var failed atomic.Int64
	for g := range writers {
		wg.Go(func() {
			for i := range each {
				if err := w.Write(t.Context(), fmt.Sprintf("%d-%d", g, i), i); err != nil {
					failed.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	seen := map[any]bool{}
	for _, r := range conn.rows() {
		seen[r[0]] = true
	}
	if failed.Load() != 0 || len(seen) != writers*each {
		t.Fatalf("failed %d, distinct inserted %d, want 0 and %d", failed.Load(), len(seen), writers*each)
	}
	if s := w.Stats(); s.Retries == 0 || s.RowsWritten != writers*each || s.FlushMax < s.FlushAverage {
		t.Fatalf("stats = %+v", s)
	}
}

func TestBatchWriterCallerContextEnds(t *testing.T) {
	gate := make(chan struct{})
	conn := &fakeConn{sendGate: gate}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 1})
	ctx, cancel := context.WithCancel(t.Context())
	res := make(chan error)
	go func() { res <- w.Write(ctx, "a", 1) }()
	waitPending(t, w, 1)
	cancel()
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("Write: %v", err)
	}
	// The row was already handed over; it still lands (at-least-once).
	close(gate)
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	if len(conn.rows()) != 1 {
		t.Fatalf("inserted %d, want 1", len(conn.rows()))
	}
}

// WriteAsync returns once the row is queued, and done hears the outcome of
// the insert that holds it, exactly once, from one goroutine for many rows.
func TestBatchWriterWriteAsync(t *testing.T) {
	gate := make(chan struct{})
	conn := &fakeConn{sendGate: gate}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 10, FlushInterval: time.Hour})
	results := make(chan error, 20)
	for _, id := range ids(20) {
		if err := w.WriteAsync(t.Context(), func(err error) { results <- err }, []any{id, "v"}); err != nil {
			t.Fatal(err)
		}
	}
	select {
	case err := <-results:
		t.Fatalf("done called (%v) before any insert returned", err)
	default:
	}
	close(gate)
	for range 20 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(conn.rows()); got != 20 {
		t.Fatalf("%d rows inserted, want 20", got)
	}
	if err := w.WriteAsync(t.Context(), func(error) { t.Error("done called for a row not queued") }, []any{"only one value"}); !errors.Is(err, ErrPermanent) {
		t.Fatalf("wrong arity: %v, want ErrPermanent", err)
	}
}

// typedRow is a TypedRow over the fake batch: its column append refuses
// the whole batch when any row is "bad", as a driver's column conversion
// does, naming no row.
type typedRow struct {
	id, v string
}

func (r typedRow) Values() []any { return []any{r.id, r.v} }

func (typedRow) AppendColumns(b driver.Batch, rows []TypedRow) error {
	for _, r := range rows {
		if r.(typedRow).id == "bad" {
			return fmt.Errorf("clickhouse: column: %w", errFakeConvert)
		}
	}
	for _, r := range rows {
		if err := b.Append(r.Values()...); err != nil {
			return err
		}
	}
	return nil
}

// Typed rows land in whole batches; a column the driver refuses is
// appended again row by row, so only the bad row fails and its neighbours
// land.
func TestBatchWriterWriteRowAsync(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 10, FlushInterval: time.Hour})
	results := make(chan error, 20)
	for i, id := range ids(20) {
		if i == 13 {
			id = "bad"
		}
		if err := w.WriteRowAsync(t.Context(), func(err error) { results <- err }, typedRow{id, "v"}); err != nil {
			t.Fatal(err)
		}
	}
	var failed int
	for range 20 {
		if err := <-results; err != nil {
			if !errors.Is(err, ErrPermanent) {
				t.Fatalf("bad row: %v, want ErrPermanent", err)
			}
			failed++
		}
	}
	if failed != 1 || len(conn.rows()) != 19 {
		t.Fatalf("%d failed and %d inserted, want 1 and 19", failed, len(conn.rows()))
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
}

// A writer given both typed and []any rows appends their batches row by
// row rather than handing a typed row's AppendColumns a row it cannot read.
func TestBatchWriterMixedRows(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 10, FlushInterval: time.Hour})
	results := make(chan error, 4)
	done := func(err error) { results <- err }
	for i, id := range ids(4) {
		var err error
		if i%2 == 0 {
			err = w.WriteRowAsync(t.Context(), done, typedRow{id, "v"})
		} else {
			err = w.WriteAsync(t.Context(), done, []any{id, "v"})
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(t.Context()); err != nil {
		t.Fatal(err)
	}
	for range 4 {
		if err := <-results; err != nil {
			t.Fatal(err)
		}
	}
	if got := len(conn.rows()); got != 4 {
		t.Fatalf("%d rows inserted, want 4", got)
	}
}
