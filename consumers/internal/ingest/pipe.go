package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/clickhouse"
)

// AsyncWriter is the writer contract of the batch path: WriteAsync queues
// a row and returns; done is later called exactly once, from another
// goroutine and without blocking, with what Writer.Write would have
// returned. If WriteAsync returns an error the row was not queued and done
// is never called. WriteRowAsync is the same for a typed row (Sink.Typed).
// *clickhouse.BatchWriter implements it.
type AsyncWriter interface {
	WriteAsync(ctx context.Context, done func(error), row []any) error
	WriteRowAsync(ctx context.Context, done func(error), row clickhouse.TypedRow) error
}

// PipeConfig configures a Pipe.
type PipeConfig struct {
	// Name is the handler's name, for logs.
	Name   string
	Sink   *Sink
	Writer AsyncWriter
	// DeadLetter disposes of a poison message (router.DeadLetterFunc): it
	// returns nil when the message may be acked, or the error for which it
	// is nacked and redelivered. Required.
	DeadLetter func(msg *message.Message, cause error) error
	// Record, if set, hears each message's outcome, as the router's
	// metrics middleware would (observe.Metrics.Recorder).
	Record func(took time.Duration, err error)
	// Trace, if set, starts each message's consumer span and returns what
	// ends it (observe.ConsumeSpans).
	Trace func(msg *message.Message) (end func(error))
	// Workers is how many goroutines make rows (decode and validate,
	// the bulk of the CPU); default runtime.GOMAXPROCS.
	Workers int
	// Backoff is how long a nack waits after the first of a run of
	// failures, doubling with each to at most MaxBackoff (defaults 100ms
	// and 5s, the router's retry backoff): a redelivered message that fails
	// again — its dead-letter destination down — must not spin the pipe.
	Backoff, MaxBackoff time.Duration
	Logger              *slog.Logger
}

// Validate reports every missing field at once.
func (c PipeConfig) Validate() error {
	var errs []error
	if c.Sink == nil {
		errs = append(errs, errors.New("pipe: Sink is required"))
	}
	if c.Writer == nil {
		errs = append(errs, errors.New("pipe: Writer is required"))
	}
	if c.DeadLetter == nil {
		errs = append(errs, errors.New("pipe: DeadLetter is required"))
	}
	if c.Workers < 0 {
		errs = append(errs, fmt.Errorf("pipe: Workers must not be negative, got %d", c.Workers))
	}
	if c.Backoff < 0 || c.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("pipe: Backoff %s and MaxBackoff %s must not be negative", c.Backoff, c.MaxBackoff))
	}
	return errors.Join(errs...)
}

// Pipe is the batch path of one event subscription: a few goroutines
// (Workers) take the subscriber's messages, make each its row (Sink.Row)
// and queue it (AsyncWriter.WriteAsync); the message is acked when the
// insert holding its row returns.
//
// It is what a Watermill router handler stack does for the Sink, without
// a goroutine, a handler context and a blocked Write per message (which
// made the goroutine stacks and the router the largest costs of ingest and
// bounded the batch sizes by how many goroutines could wait). The
// semantics are the stack's:
//   - ack only once the row is inserted;
//   - the event's own faults (IsPoison: it breaks its contract, or
//     ClickHouse refuses the row) go to DeadLetter, with the same metadata,
//     and the message is acked only if DeadLetter returns nil;
//   - everything else (the writer closing, a dead-letter publish that
//     failed) nacks the message for redelivery: a good event is never
//     dead-lettered because a server was down; ClickHouse outages do not
//     even get here, the writer retries them until the rows land;
//   - a panic while making the row nacks the message, like the router's.
//
// Rows may be queued out of their messages' order, as with the router's
// goroutine per message: nothing depends on it. The writer puts a row in
// its batch by its position (per-log windows of consecutive offsets, for
// insert deduplication tokens), not by when it arrived, and the transports
// commit only up to the oldest message not yet acked.
type Pipe struct {
	cfg     PipeConfig
	log     *slog.Logger
	started chan struct{}
	stopped chan struct{}
	pending sync.WaitGroup // messages taken and not yet acked or nacked
	fails   atomic.Int64   // failures in a row, for the nack backoff
}

// NewPipe checks cfg; it does no I/O.
func NewPipe(cfg PipeConfig) (*Pipe, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if cfg.Workers == 0 {
		cfg.Workers = runtime.GOMAXPROCS(0)
	}
	if cfg.Backoff == 0 {
		cfg.Backoff = 100 * time.Millisecond
	}
	if cfg.MaxBackoff == 0 {
		cfg.MaxBackoff = 5 * time.Second
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Pipe{cfg: cfg, log: log.With("handler", cfg.Name), started: make(chan struct{}), stopped: make(chan struct{})}, nil
}

// Started is closed once Run has begun; Stopped once it returned. Together
// they make a Pipe trackable like a Watermill handler (daemon.Health).
func (p *Pipe) Started() chan struct{} { return p.started }

// Stopped is closed once Run returned.
func (p *Pipe) Stopped() chan struct{} { return p.stopped }

// Run handles msgs until the channel is closed (the subscriber closes it
// once its subscription ended and in-flight messages were drained), then
// waits until every message it took is acked or nacked. Call it once.
func (p *Pipe) Run(msgs <-chan *message.Message) {
	close(p.started)
	defer close(p.stopped)
	var workers sync.WaitGroup
	for range p.cfg.Workers {
		workers.Go(func() {
			for msg := range msgs {
				p.handle(msg)
			}
		})
	}
	workers.Wait()
	p.pending.Wait()
}

func (p *Pipe) handle(msg *message.Message) {
	start := time.Now()
	var end func(error)
	if p.cfg.Trace != nil {
		end = p.cfg.Trace(msg)
	}
	p.pending.Add(1)
	row, err := p.row(msg)
	if err != nil {
		p.finish(msg, start, end, Row{}, err)
		return
	}
	done := func(err error) {
		if err != nil {
			err = fmt.Errorf("insert %s into %s: %w", row.EventID, p.cfg.Sink.Table(), err)
		}
		p.finish(msg, start, end, row, err)
	}
	if row.Typed != nil {
		err = p.cfg.Writer.WriteRowAsync(row.Ctx, done, row.Typed)
	} else {
		err = p.cfg.Writer.WriteAsync(row.Ctx, done, row.Values)
	}
	if err != nil {
		p.finish(msg, start, end, row, fmt.Errorf("insert %s into %s: %w", row.EventID, p.cfg.Sink.Table(), err))
	}
}

// row is Sink.Row with a panic turned into an error that is not poison.
func (p *Pipe) row(msg *message.Message) (r Row, err error) {
	defer func() {
		if v := recover(); v != nil {
			p.log.Error("panic while making a row; the message is nacked", "event_id", msg.UUID, "panic", v)
			err = fmt.Errorf("make row for %s: panic: %v", p.cfg.Sink.Table(), v)
		}
	}()
	return p.cfg.Sink.Row(msg)
}

// finish acks, dead-letters or nacks msg once its outcome err is known. It
// runs on the writer's goroutine (which must not block) or on Run's, so
// the dead-letter publish, the one slow step, gets its own goroutine.
func (p *Pipe) finish(msg *message.Message, start time.Time, end func(error), row Row, err error) {
	if p.cfg.Record != nil {
		p.cfg.Record(time.Since(start), err)
	}
	switch {
	case err == nil:
		p.fails.Store(0)
		msg.Ack()
		p.cfg.Sink.Inserted(row)
		p.done(end, nil)
	case IsPoison(err):
		go func() {
			derr := p.cfg.DeadLetter(msg, err)
			if derr != nil {
				p.nack(msg, end, derr)
				return
			}
			msg.Ack()
			p.done(end, nil)
		}()
	case errors.Is(err, context.Canceled) || errors.Is(err, clickhouse.ErrClosed):
		// Shutting down: hand the message back at once.
		msg.Nack()
		p.done(end, err)
	default:
		p.log.Warn("handling failed; the message is nacked for redelivery", "event_id", msg.UUID, "err", err)
		go p.nack(msg, end, err)
	}
}

// backoff is the wait before the nack of the n-th failure in a row.
func (c PipeConfig) backoff(n int64) time.Duration {
	return min(c.Backoff<<min(max(n-1, 0), 16), c.MaxBackoff)
}

// nack hands msg back for redelivery after the backoff of the current run
// of failures. It blocks: call it on a goroutine of its own.
func (p *Pipe) nack(msg *message.Message, end func(error), err error) {
	time.Sleep(p.cfg.backoff(p.fails.Add(1)))
	msg.Nack()
	p.done(end, err)
}

func (p *Pipe) done(end func(error), err error) {
	if end != nil {
		end(err)
	}
	p.pending.Done()
}
