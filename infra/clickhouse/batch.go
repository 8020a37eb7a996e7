package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"go.opentelemetry.io/otel/trace"
)

// preparer is the part of driver.Conn the writer uses; tests fake it.
type preparer interface {
	PrepareBatch(ctx context.Context, query string, opts ...driver.PrepareBatchOption) (driver.Batch, error)
}

// BatchWriter turns many concurrent single-row Writes into few inserts into
// one table.
//
// Contract:
//   - Write blocks until the row is durably inserted (nil), rejected
//     (ErrPermanent), or abandoned (ErrClosed or the caller's ctx error), so
//     a message handler can ack exactly when Write returns nil.
//   - ClickHouse being unreachable is not a failure: the batch is retried
//     with exponential backoff until it lands or the writer is closed, and
//     writers keep waiting. When MaxPendingRows rows wait, Write blocks.
//   - Delivery is at-least-once: a batch retried after the server committed
//     it is inserted twice; the tables collapse such duplicates by key.
//   - All methods are safe for concurrent use. Close flushes, waits and may
//     be called more than once.
type BatchWriter struct {
	conn  preparer
	cfg   BatchConfig
	log   *slog.Logger
	query string

	slots chan struct{} // one token per pending row: the memory bound
	kick  chan struct{} // wakes the flusher; capacity 1

	mu        sync.Mutex
	groups    map[groupID]*group // rows waiting for their batch
	closing   bool
	closingCh chan struct{} // closed once closing is set

	startOnce sync.Once
	runCtx    context.Context
	cancelRun context.CancelCauseFunc
	done      chan struct{} // closed when the flusher has resolved every row

	stats batchCounters
}

type pendingRow struct {
	vals     []any             // the row, unless typed is set
	typed    TypedRow          // the row, written by WriteRowAsync
	pos      Position          // where its message sits; Key "" when unknown
	span     trace.SpanContext // of the Write's context, for the insert span's links
	enqueued time.Time
	done     func(error) // called once, by the one insert that holds the row
	resolved bool        // touched only by the one insert that holds the row
}

// NewBatchWriter checks cfg and builds a writer; it does no I/O. The flusher
// starts with Start, or on the first Write.
func NewBatchWriter(conn driver.Conn, cfg BatchConfig, logger *slog.Logger) (*BatchWriter, error) {
	if conn == nil {
		return nil, errors.New("new batch writer: nil conn")
	}
	return newBatchWriter(conn, cfg, logger)
}

func newBatchWriter(conn preparer, cfg BatchConfig, logger *slog.Logger) (*BatchWriter, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("batch writer config: %w", err)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &BatchWriter{
		conn:      conn,
		cfg:       cfg,
		log:       logger.With(slog.String("table", cfg.Table)),
		query:     fmt.Sprintf("INSERT INTO %s (%s) VALUES", cfg.Table, strings.Join(cfg.Columns, ", ")),
		slots:     make(chan struct{}, cfg.MaxPendingRows),
		kick:      make(chan struct{}, 1),
		groups:    map[groupID]*group{},
		closingCh: make(chan struct{}),
		done:      make(chan struct{}),
	}, nil
}

// Start launches the flusher. When ctx ends the writer stops at once: retries
// stop and every row not yet inserted fails with ErrClosed. To drain on
// shutdown, call Close before cancelling ctx. Calls after the first (or
// after a Write started the writer) do nothing.
func (w *BatchWriter) Start(ctx context.Context) {
	w.startOnce.Do(func() {
		w.runCtx, w.cancelRun = context.WithCancelCause(ctx)
		context.AfterFunc(w.runCtx, w.beginClose)
		go w.run()
	})
}

// Write queues one row (values in BatchConfig.Columns order) and waits until
// it is inserted. It returns nil once ClickHouse has acknowledged the insert;
// an error wrapping ErrPermanent if the row (or its batch, on a schema
// error) is rejected; ErrClosed if the writer closes first; or ctx's error
// if ctx ends first, in which case the row may still be inserted later.
func (w *BatchWriter) Write(ctx context.Context, row ...any) error {
	result := make(chan error, 1)
	// Copy: a caller may reuse the slice it spread into row.
	if err := w.WriteAsync(ctx, func(err error) { result <- err }, slices.Clone(row)); err != nil {
		return err
	}
	select {
	case err := <-result:
		return err
	case <-ctx.Done():
		return fmt.Errorf("write to %s: %w (row stays queued and may still be inserted)", w.cfg.Table, ctx.Err())
	}
}

// WriteAsync queues one row (values in BatchConfig.Columns order; the
// writer keeps the slice, so the caller must not reuse it) and returns once
// it is queued, so one goroutine can keep many rows in flight without a
// goroutine per row. done is then called exactly once, from the writer's
// goroutine, with what Write would have returned: nil once ClickHouse
// acknowledged the insert, ErrPermanent or ErrClosed. done must not block.
// If WriteAsync returns an error (wrong column count, the writer closing,
// ctx ending while the buffer is full) the row was not queued and done is
// never called. It blocks while MaxPendingRows rows are pending.
func (w *BatchWriter) WriteAsync(ctx context.Context, done func(error), row []any) error {
	if len(row) != len(w.cfg.Columns) {
		w.stats.rowsFailed.Add(1)
		return fmt.Errorf("write to %s: %w: got %d values for %d columns", w.cfg.Table, ErrPermanent, len(row), len(w.cfg.Columns))
	}
	return w.enqueue(ctx, &pendingRow{vals: row, done: done})
}

func (w *BatchWriter) enqueue(ctx context.Context, r *pendingRow) error {
	w.Start(context.Background())

	// A free slot is taken without asking for ctx.Done(): on a message's
	// cancel context that call allocates a channel, once per row.
	select {
	case w.slots <- struct{}{}:
	default:
		select {
		case w.slots <- struct{}{}:
		case <-w.closingCh:
			return fmt.Errorf("write to %s: %w", w.cfg.Table, ErrClosed)
		case <-ctx.Done():
			return fmt.Errorf("write to %s: waiting for buffer space: %w", w.cfg.Table, ctx.Err())
		}
	}

	r.pos, r.enqueued, r.span = PositionFrom(ctx), time.Now(), trace.SpanContextFromContext(ctx)
	id := w.groupOf(r.pos)
	w.mu.Lock()
	if w.closing {
		w.mu.Unlock()
		<-w.slots
		return fmt.Errorf("write to %s: %w", w.cfg.Table, ErrClosed)
	}
	g := w.groups[id]
	if g == nil {
		g = &group{}
		w.groups[id] = g
	}
	g.rows = append(g.rows, r)
	n := len(g.rows)
	w.stats.pending.Add(1)
	w.mu.Unlock()
	// The flusher sleeps until a group's first row arms its timer or a
	// batch fills.
	if n == 1 || n >= w.cfg.MaxRows || (id.key != "" && n >= w.cfg.WindowRows) {
		w.wake()
	}
	return nil
}

// TypedRow is a row that a batch of rows of its type can append column by
// column: one typed slice per column (driver.BatchColumn.Append) instead
// of a []any per row, each value boxed, converted by the driver's type
// switch one at a time. Values gives the same row as values in
// BatchConfig.Columns order; the writer uses it only to find a row the
// driver refuses.
type TypedRow interface {
	Values() []any
	// AppendColumns appends rows, every one of this row's type, to b. It
	// must not keep rows.
	AppendColumns(b driver.Batch, rows []TypedRow) error
}

// WriteRowAsync is WriteAsync for a typed row: the writer appends a batch
// of them column by column (TypedRow.AppendColumns). Every row a writer
// gets this way must be of the same type.
func (w *BatchWriter) WriteRowAsync(ctx context.Context, done func(error), row TypedRow) error {
	return w.enqueue(ctx, &pendingRow{typed: row, done: done})
}

// Close stops accepting rows, flushes what is buffered and waits for it. If
// ctx ends first, retries stop, rows not inserted fail with ErrClosed, and
// Close returns ctx's error after the flusher exits. Safe to call twice.
func (w *BatchWriter) Close(ctx context.Context) error {
	w.Start(context.Background()) // so done is closed even if never started
	w.beginClose()
	select {
	case <-w.done:
		return nil
	case <-ctx.Done():
		w.cancelRun(fmt.Errorf("close deadline: %w", context.Cause(ctx)))
		<-w.done
		return fmt.Errorf("close %s writer: pending rows abandoned: %w", w.cfg.Table, ctx.Err())
	}
}

// Stats returns a snapshot of the counters; safe from any goroutine.
func (w *BatchWriter) Stats() BatchStats { return w.stats.snapshot() }

func (w *BatchWriter) beginClose() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.setClosingLocked()
}

func (w *BatchWriter) setClosingLocked() {
	if !w.closing {
		w.closing = true
		close(w.closingCh)
	}
}

func (w *BatchWriter) wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// run is the flusher: it cuts batches — on size first, on age second — and
// keeps up to MaxInserts of them in flight, so the next batch fills while
// earlier ones are sent and one slow insert does not hold every partition's
// acks. It exits once closing, the queue is empty and the inserts are done,
// or when runCtx ends (after failing what is left).
func (w *BatchWriter) run() {
	var inserts sync.WaitGroup
	defer close(w.done)
	defer inserts.Wait()
	busy := make(chan struct{}, w.cfg.MaxInserts) // one token per insert in flight
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	for {
		if w.runCtx.Err() != nil {
			// Mark closing under the same lock that takes the queue: the
			// AfterFunc doing it may not have run yet, and a Write slipping
			// in after we return would wait forever.
			w.mu.Lock()
			w.setClosingLocked()
			var rest []*pendingRow
			for id, g := range w.groups {
				rest = append(rest, g.rows...)
				delete(w.groups, id)
			}
			w.mu.Unlock()
			w.resolve(rest, w.closedErr(nil))
			return
		}
		w.mu.Lock()
		closing := w.closing
		dueID, due, wait := w.nextDueLocked(closing)
		if due != nil && len(busy) < cap(busy) {
			k := min(len(due.rows), w.cfg.MaxRows)
			batch := due.rows[:k:k]
			if k == len(due.rows) {
				delete(w.groups, dueID)
			} else {
				due.rows = slices.Clone(due.rows[k:])
			}
			w.mu.Unlock()
			busy <- struct{}{}
			inserts.Go(func() {
				defer func() {
					<-busy
					w.wake()
				}()
				w.deliver(batch)
			})
			continue
		}
		empty := len(w.groups) == 0
		w.mu.Unlock()
		if empty && closing {
			return
		}
		var tick <-chan time.Time
		if due == nil && wait >= 0 {
			timer.Reset(wait)
			tick = timer.C
		}
		// Due but every insert slot busy: a finishing insert wakes us.
		select {
		case <-w.kick:
		case <-tick:
		case <-w.closingCh:
		case <-w.runCtx.Done():
		}
		timer.Stop()
	}
}

// nextDueLocked returns the group to send next — the one with the oldest
// row among those full, aged past FlushInterval, or any when closing — or,
// when none is due, how long until the first one will be (-1: no rows).
func (w *BatchWriter) nextDueLocked(closing bool) (groupID, *group, time.Duration) {
	var (
		dueID groupID
		due   *group
		wait  = time.Duration(-1)
	)
	for id, g := range w.groups {
		first := g.rows[0].enqueued
		left := w.cfg.FlushInterval - time.Since(first)
		full := len(g.rows) >= w.cfg.MaxRows || (id.key != "" && len(g.rows) >= w.cfg.WindowRows)
		if full || closing || left <= 0 {
			if due == nil || first.Before(due.rows[0].enqueued) {
				dueID, due = id, g
			}
			continue
		}
		if wait < 0 || left < wait {
			wait = left
		}
	}
	return dueID, due, wait
}

// resolve hands each unresolved row its result and frees its buffer slot.
func (w *BatchWriter) resolve(rows []*pendingRow, err error) {
	for _, r := range rows {
		if r.resolved {
			continue
		}
		r.resolved = true
		r.done(err)
		<-w.slots
		w.stats.pending.Add(-1)
		switch {
		case err == nil:
		case errors.Is(err, ErrPermanent):
			w.stats.rowsFailed.Add(1)
		default:
			w.stats.rowsAborted.Add(1)
		}
	}
}

func (w *BatchWriter) closedErr(last error) error {
	cause := context.Cause(w.runCtx)
	if last != nil {
		return fmt.Errorf("insert into %s: %w (%w; last error: %w)", w.cfg.Table, ErrClosed, cause, last)
	}
	return fmt.Errorf("insert into %s: %w (%w)", w.cfg.Table, ErrClosed, cause)
}
