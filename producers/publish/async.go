package publish

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// AsyncConfig sizes an Async publisher; zero fields take defaults.
type AsyncConfig struct {
	// Buffer is how many accepted events may wait for a worker before
	// Publish blocks (default 4096). Nothing is ever dropped: a full buffer
	// slows the producer down to what the brokers take.
	Buffer int
	// Workers is how many batches are in flight at once (default 8).
	Workers int
	// MaxBatch is the most events one worker sends per broker call
	// (default 256); a worker never waits to fill a batch, it takes what
	// is queued.
	MaxBatch int
	// OnResult, if set, is called once per event with its outcome, from a
	// worker goroutine (or from Publish for events refused up front). It
	// must be safe for concurrent use and quick: it holds up a worker.
	OnResult func(Result)
}

// WithDefaults returns c with zero fields set to their defaults.
func (c AsyncConfig) WithDefaults() AsyncConfig {
	if c.Buffer == 0 {
		c.Buffer = 4096
	}
	if c.Workers == 0 {
		c.Workers = 8
	}
	if c.MaxBatch == 0 {
		c.MaxBatch = 256
	}
	return c
}

// Validate reports every problem at once.
func (c AsyncConfig) Validate() error {
	var errs []error
	if c.Buffer < 1 {
		errs = append(errs, fmt.Errorf("publish: AsyncConfig.Buffer: must be at least 1, got %d", c.Buffer))
	}
	if c.Workers < 1 {
		errs = append(errs, fmt.Errorf("publish: AsyncConfig.Workers: must be at least 1, got %d", c.Workers))
	}
	if c.MaxBatch < 1 {
		errs = append(errs, fmt.Errorf("publish: AsyncConfig.MaxBatch: must be at least 1, got %d", c.MaxBatch))
	}
	return errors.Join(errs...)
}

// Result is the outcome of one event: Err is nil when every destination
// acked it. Event is the event as stamped (id, time, traceparent).
type Result struct {
	Event schemas.Envelope
	Err   error
}

// Future resolves once its event is published or has failed.
type Future struct {
	done chan struct{}
	res  Result
}

func resolved(r Result) *Future {
	f := &Future{done: make(chan struct{}), res: r}
	close(f.done)
	return f
}

// Done is closed when the result is known.
func (f *Future) Done() <-chan struct{} { return f.done }

// Wait returns the result, or ctx's error if ctx ends first (the event is
// then still being published).
func (f *Future) Wait(ctx context.Context) (Result, error) {
	select {
	case <-f.done:
		return f.res, nil
	case <-ctx.Done():
		return Result{}, ctx.Err()
	}
}

// Result returns the result; call it only after Done is closed.
func (f *Future) Result() Result { return f.res }

// Async publishes through a Client from a bounded buffer. Publish, Flush
// and Close are safe for concurrent use. Every event Publish returns a
// Future for gets exactly one result; Close waits for all of them.
type Async struct {
	c     *Client
	cfg   AsyncConfig
	queue chan *pending
	stop  chan struct{}
	wg    sync.WaitGroup

	mu     sync.RWMutex // held for reading while an event is being enqueued
	closed bool

	pmu     sync.Mutex
	pending int           // events accepted and not yet resolved
	idle    chan struct{} // closed while pending == 0
}

type pending struct {
	prepared
	accepted time.Time
	future   *Future
	err      error
}

// NewAsync starts cfg.Workers goroutines that publish through c. It does no
// I/O. Close it to stop them.
func (c *Client) NewAsync(cfg AsyncConfig) (*Async, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	a := &Async{c: c, cfg: cfg, queue: make(chan *pending, cfg.Buffer), stop: make(chan struct{}),
		idle: make(chan struct{})}
	close(a.idle)
	a.wg.Add(cfg.Workers)
	for range cfg.Workers {
		go a.work()
	}
	return a, nil
}

// Publish stamps and validates env like Client.Publish, then queues it and
// returns without waiting for the brokers. When the buffer is full it
// blocks until there is room or ctx ends; events that are invalid, have no
// route, arrive after Close, or find ctx ended are not queued and get an
// already-resolved Future with the error. ctx bounds only the wait for
// buffer space: once accepted, an event is published whatever happens to
// ctx, within the client's retry budget.
func (a *Async) Publish(ctx context.Context, env schemas.Envelope) *Future {
	p, err := a.c.prepare(ctx, env)
	if err != nil {
		return a.refuse(p.env, err)
	}
	a.mu.RLock()
	defer a.mu.RUnlock()
	if a.closed {
		return a.refuse(p.env, fmt.Errorf("publish %s %s: %w", p.env.Type, p.env.ID, ErrClosed))
	}
	it := &pending{prepared: p, accepted: a.c.now(), future: &Future{done: make(chan struct{})}}
	a.track(+1)
	select {
	case a.queue <- it:
		return it.future
	case <-ctx.Done():
		a.track(-1)
		return a.refuse(p.env, fmt.Errorf("publish %s %s: waiting for buffer space: %w", p.env.Type, p.env.ID, ctx.Err()))
	}
}

func (a *Async) refuse(env schemas.Envelope, err error) *Future {
	r := Result{Event: env, Err: a.c.finish(err)}
	if a.cfg.OnResult != nil {
		a.cfg.OnResult(r)
	}
	return resolved(r)
}

// track counts accepted, unresolved events so Flush can wait for zero.
func (a *Async) track(delta int) {
	a.pmu.Lock()
	defer a.pmu.Unlock()
	if a.pending == 0 && delta > 0 {
		a.idle = make(chan struct{})
	}
	a.pending += delta
	if a.pending == 0 {
		close(a.idle)
	}
}

// Flush waits until every event accepted before the call has its result,
// or ctx ends.
func (a *Async) Flush(ctx context.Context) error {
	a.pmu.Lock()
	idle := a.idle
	a.pmu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("publish: flush: %w", ctx.Err())
	}
}

// Close refuses new events, waits until every accepted event has its result
// and stops the workers. It does not close the Client. Safe to call twice.
func (a *Async) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		a.wg.Wait()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	close(a.stop)
	a.wg.Wait()
	return nil
}

func (a *Async) work() {
	defer a.wg.Done()
	batch := make([]*pending, 0, a.cfg.MaxBatch)
	for {
		select {
		case it := <-a.queue:
			batch = append(batch[:0], it)
		case <-a.stop:
			// Close holds off new senders before closing stop, so once the
			// queue reads empty it stays empty.
			select {
			case it := <-a.queue:
				batch = append(batch[:0], it)
			default:
				return
			}
		}
	fill:
		for len(batch) < a.cfg.MaxBatch {
			select {
			case it := <-a.queue:
				batch = append(batch, it)
			default:
				break fill
			}
		}
		a.send(batch)
	}
}
