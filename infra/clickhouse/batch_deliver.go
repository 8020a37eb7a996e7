package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// errRowRejected tells deliver that insertOnce failed one row for good and
// the rest should be re-sent at once, without backoff.
var errRowRejected = errors.New("row rejected")

// errByRow tells deliver that the driver refused a column of typed rows:
// the rows are re-sent at once, row by row, to find the one at fault.
var errByRow = errors.New("column rejected")

// sendError marks a failure of the INSERT's data (Send), as opposed to
// preparing it: only then can splitting the batch isolate bad rows.
type sendError struct{ err error }

func (e *sendError) Error() string { return "send: " + e.err.Error() }
func (e *sendError) Unwrap() error { return e.err }

// deliver inserts rows, resolving every one of them before it returns:
//   - transient failures retry the same rows with jittered exponential
//     backoff until they land or runCtx ends (then ErrClosed);
//   - a row the driver cannot encode fails alone and the rest are re-sent;
//   - a permanent server rejection of the data splits the batch in halves,
//     so one bad row costs about log2(n) extra inserts instead of failing
//     its neighbours (this also fixes "too many partitions for single INSERT
//     block" when a replay spans more than 100 days);
//   - a failure while preparing (unknown table or column, no rights) is
//     never the rows' fault: it is retried like an outage (isTransient).
func (w *BatchWriter) deliver(rows []*pendingRow) {
	backoff := w.cfg.RetryMin
	byRow := false
	for attempt := 1; ; {
		live := unresolved(rows)
		if len(live) == 0 {
			return
		}
		if w.runCtx.Err() != nil {
			w.resolve(live, w.closedErr(nil))
			return
		}
		start := time.Now()
		end := w.traceInsert(live, attempt)
		err := w.insertOnce(live, byRow)
		end(err)
		switch {
		case err == nil:
			took := time.Since(start)
			w.stats.flushed(len(live), took)
			if o := w.cfg.Observe; o != nil {
				o.Inserted(len(live), took)
			}
			w.resolve(live, nil)
			if attempt > 1 {
				w.log.Info("insert succeeded after retries", slog.Int("rows", len(live)), slog.Int("attempts", attempt))
			}
			return
		case errors.Is(err, errRowRejected):
			continue
		case errors.Is(err, errByRow):
			byRow = true
			continue
		case w.runCtx.Err() != nil:
			w.resolve(live, w.closedErr(err))
			return
		case isTransient(err):
			w.stats.retries.Add(1)
			if o := w.cfg.Observe; o != nil {
				o.Retried()
			}
			wait := jitter(backoff)
			w.log.Warn("insert failed, will retry", slog.Int("rows", len(live)), slog.Int("attempt", attempt),
				slog.Duration("backoff", wait), slog.Any("error", err))
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-w.runCtx.Done():
				t.Stop()
			}
			backoff = min(backoff*2, w.cfg.RetryMax)
			attempt++
		default:
			var se *sendError
			if errors.As(err, &se) && len(live) > 1 {
				w.log.Warn("insert rejected, splitting batch to isolate bad rows", slog.Int("rows", len(live)), slog.Any("error", err))
				h := len(live) / 2
				w.deliver(live[:h])
				w.deliver(live[h:])
				return
			}
			w.log.Error("insert rejected", slog.Int("rows", len(live)), slog.Any("error", err))
			w.resolve(live, fmt.Errorf("insert into %s: %w: %w", w.cfg.Table, ErrPermanent, err))
			return
		}
	}
}

// insertOnce makes one attempt: prepare, append every row, send. An Append
// error poisons the driver's batch (and drops its connection), so the
// offending row is resolved here and errRowRejected asks for a rebuild.
// Typed rows are appended column by column unless byRow; a refused column
// names no row, so errByRow asks for a rebuild row by row.
func (w *BatchWriter) insertOnce(rows []*pendingRow, byRow bool) error {
	ctx, cancel := context.WithTimeout(w.runCtx, w.cfg.AttemptTimeout)
	defer cancel()
	if tok := w.dedupToken(rows); tok != "" {
		// The same rows retried, or rebuilt by a replay, carry the same
		// token: the server keeps one copy, in the table and its rollups.
		ctx = withDedupToken(ctx, tok)
	}
	b, err := w.conn.PrepareBatch(ctx, w.query)
	if err != nil {
		return &prepareError{fmt.Errorf("prepare %s batch: %w", w.cfg.Table, err)}
	}
	defer func() { _ = b.Close() }()
	if typed := rows[0].typed; typed != nil && !byRow && allTyped(rows) {
		list := make([]TypedRow, len(rows))
		for i, r := range rows {
			list[i] = r.typed
		}
		if err := typed.AppendColumns(b, list); err != nil {
			_ = b.Abort()
			w.log.Warn("column rejected by driver; appending row by row", slog.Any("error", err))
			return errByRow
		}
		if err := b.Send(); err != nil {
			return &sendError{fmt.Errorf("flush %s batch: %w", w.cfg.Table, err)}
		}
		return nil
	}
	for _, r := range rows {
		vals := r.vals
		if r.typed != nil {
			vals = r.typed.Values()
		}
		if err := b.Append(vals...); err != nil {
			_ = b.Abort()
			w.log.Warn("row rejected by driver", slog.Any("error", err))
			w.resolve([]*pendingRow{r}, fmt.Errorf("insert into %s: %w: %w", w.cfg.Table, ErrPermanent, err))
			return errRowRejected
		}
	}
	if err := b.Send(); err != nil {
		return &sendError{fmt.Errorf("flush %s batch: %w", w.cfg.Table, err)}
	}
	return nil
}

// allTyped says whether every row came from WriteRowAsync: a writer that
// also got []any rows appends its batches row by row.
func allTyped(rows []*pendingRow) bool {
	for _, r := range rows {
		if r.typed == nil {
			return false
		}
	}
	return true
}

func unresolved(rows []*pendingRow) []*pendingRow {
	out := rows[:0:0]
	for _, r := range rows {
		if !r.resolved {
			out = append(out, r)
		}
	}
	return out
}

// jitter spreads d over [0.8d, 1.2d) so writers that lost the same server do
// not reconnect in lockstep.
func jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
}

// maxLinks bounds the rows an insert span links to.
const maxLinks = 32

// traceInsert starts the span of one insert attempt; the returned func
// ends it with the attempt's error.
func (w *BatchWriter) traceInsert(rows []*pendingRow, attempt int) func(error) {
	if w.cfg.Tracer == nil {
		return func(error) {}
	}
	var links []trace.Link
	for _, r := range rows {
		if r.span.IsValid() && len(links) < maxLinks {
			links = append(links, trace.Link{SpanContext: r.span})
		}
	}
	_, span := w.cfg.Tracer.Start(w.runCtx, "clickhouse insert "+w.cfg.Table, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithLinks(links...), trace.WithAttributes(
			attribute.String("db.system", "clickhouse"), attribute.String("db.collection.name", w.cfg.Table),
			attribute.Int("db.operation.batch.size", len(rows)), attribute.Int("tributary.attempt", attempt)))
	return func(err error) {
		if err != nil {
			span.RecordError(err)
			span.SetStatus(codes.Error, err.Error())
		}
		span.End()
	}
}
