package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/schemas"
)

func anomalyEvent(t *testing.T) schemas.Envelope {
	t.Helper()
	now := time.Now()
	return event(t, schemas.Anomaly{Kind: "brute_force", Family: schemas.FamilyAuth,
		Entity: schemas.Entity{Type: "user", ID: "alice"}, Score: 3, Severity: schemas.SeverityHigh,
		WindowStart: now.Add(-time.Minute), WindowEnd: now, Detector: "test"})
}

func TestAsyncResults(t *testing.T) {
	bad := loginEvent(t)
	tests := []struct {
		name     string
		js, kf   *scripted
		events   func(t *testing.T) []schemas.Envelope
		wantErrs []error // per event; nil: published
		wantSent int     // messages acked across transports
	}{
		{name: "every event gets a success", js: &scripted{}, kf: &scripted{},
			events: func(t *testing.T) []schemas.Envelope {
				return []schemas.Envelope{loginEvent(t), loginEvent(t), anomalyEvent(t)}
			},
			wantErrs: []error{nil, nil, nil}, wantSent: 4},
		{name: "transient failure is retried inside the batch", js: &scripted{errs: []error{io.EOF}}, kf: &scripted{},
			events:   func(t *testing.T) []schemas.Envelope { return []schemas.Envelope{loginEvent(t)} },
			wantErrs: []error{nil}, wantSent: 1},
		{name: "an event fails if one of its destinations fails", js: &scripted{}, kf: &scripted{errs: []error{kafka.TopicAuthorizationFailed}},
			events:   func(t *testing.T) []schemas.Envelope { return []schemas.Envelope{anomalyEvent(t)} },
			wantErrs: []error{kafka.TopicAuthorizationFailed}, wantSent: 1},
		{name: "invalid events are refused up front", js: &scripted{}, kf: &scripted{},
			events: func(t *testing.T) []schemas.Envelope {
				e := loginEvent(t)
				e.Type = "io.tributary.auth.nope"
				return []schemas.Envelope{e, loginEvent(t)}
			},
			wantErrs: []error{schemas.ErrUnknownType, nil}, wantSent: 1},
		{name: "a message the broker refuses fails alone, not its batch",
			js: &scripted{errOf: func(msgs []*message.Message) error {
				if slices.ContainsFunc(msgs, func(m *message.Message) bool { return m.UUID == bad.ID }) {
					return kafka.MessageSizeTooLarge
				}
				return nil
			}}, kf: &scripted{},
			events:   func(t *testing.T) []schemas.Envelope { return []schemas.Envelope{loginEvent(t), bad, loginEvent(t)} },
			wantErrs: []error{nil, schemas.ErrTooLarge, nil}, wantSent: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{
				schemas.TransportJetStream: tt.js, schemas.TransportKafka: tt.kf})
			var callbacks atomic.Int64
			// One worker and a closed gate opened after queueing, so the
			// events really travel in one batch.
			gate := make(chan struct{})
			tt.js.gate, tt.kf.gate = gate, gate
			a, err := c.NewAsync(AsyncConfig{Workers: 1, OnResult: func(Result) { callbacks.Add(1) }})
			if err != nil {
				t.Fatal(err)
			}
			evs := tt.events(t)
			futures := make([]*Future, len(evs))
			for i, e := range evs {
				futures[i] = a.Publish(context.Background(), e)
			}
			close(gate)
			if err := a.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			for i, f := range futures {
				select {
				case <-f.Done():
				default:
					t.Fatalf("event %d unresolved after Flush", i)
				}
				r := f.Result()
				if want := tt.wantErrs[i]; (want == nil) != (r.Err == nil) || (want != nil && !errors.Is(r.Err, want)) {
					t.Errorf("event %d: result %v, want %v", i, r.Err, want)
				}
				if r.Event.ID == "" || r.Event.TraceParent == "" {
					t.Errorf("event %d not stamped: %+v", i, r.Event)
				}
			}
			if err := a.Close(); err != nil {
				t.Fatal(err)
			}
			_, js := tt.js.snapshot()
			_, kf := tt.kf.snapshot()
			if got := len(js) + len(kf); got != tt.wantSent {
				t.Errorf("%d messages acked, want %d", got, tt.wantSent)
			}
			if int(callbacks.Load()) != len(evs) {
				t.Errorf("OnResult called %d times, want %d", callbacks.Load(), len(evs))
			}
			m := c.Metrics()
			if int(m.Published+m.Failed) != len(evs) {
				t.Errorf("metrics count %d+%d events, want %d", m.Published, m.Failed, len(evs))
			}
		})
	}
}

// TestAsyncBackpressure: with the broker stalled, Publish blocks once the
// buffer is full instead of dropping, gives up only when its ctx ends, and
// every accepted event is published once the broker is back.
func TestAsyncBackpressure(t *testing.T) {
	gate := make(chan struct{})
	js := &scripted{gate: gate}
	c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{schemas.TransportJetStream: js})
	a, err := c.NewAsync(AsyncConfig{Buffer: 2, Workers: 1, MaxBatch: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	var accepted []*Future
	// One event in the worker's (stalled) hands, two in the buffer.
	accepted = append(accepted, a.Publish(ctx, loginEvent(t)))
	poll.Eventually(t, 5*time.Second, time.Millisecond, func() error {
		if n := len(a.queue); n > 0 {
			return fmt.Errorf("the worker has not taken the first event: %d queued", n)
		}
		return nil
	})
	accepted = append(accepted, a.Publish(ctx, loginEvent(t)), a.Publish(ctx, loginEvent(t)))

	tctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	refused := a.Publish(tctx, loginEvent(t))
	if waited := time.Since(start); waited < 40*time.Millisecond {
		t.Fatalf("Publish on a full buffer returned after %s, want it to block until ctx ends", waited)
	}
	if r := refused.Result(); !errors.Is(r.Err, context.DeadlineExceeded) {
		t.Fatalf("refused event result %v, want the ctx deadline", r.Err)
	}

	blocked := make(chan *Future)
	go func() { blocked <- a.Publish(ctx, loginEvent(t)) }()
	select {
	case <-blocked:
		t.Fatal("Publish returned while the buffer was full")
	case <-time.After(30 * time.Millisecond):
	}
	close(gate)
	accepted = append(accepted, <-blocked)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for i, f := range accepted {
		if r := f.Result(); r.Err != nil {
			t.Errorf("accepted event %d failed: %v", i, r.Err)
		}
	}
	if _, sent := js.snapshot(); len(sent) != len(accepted) {
		t.Fatalf("%d events published, want %d", len(sent), len(accepted))
	}
}

func TestAsyncClose(t *testing.T) {
	js := &scripted{}
	c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{schemas.TransportJetStream: js})
	a, err := c.NewAsync(AsyncConfig{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	var futures []*Future
	for range 100 {
		futures = append(futures, a.Publish(context.Background(), loginEvent(t)))
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	for i, f := range futures {
		select {
		case <-f.Done():
		default:
			t.Fatalf("event %d unresolved after Close", i)
		}
	}
	if _, sent := js.snapshot(); len(sent) != 100 {
		t.Fatalf("Close left %d of 100 events unsent", 100-len(sent))
	}
	if r := a.Publish(context.Background(), loginEvent(t)).Result(); !errors.Is(r.Err, ErrClosed) {
		t.Fatalf("Publish after Close: %v, want ErrClosed", r.Err)
	}
	if err := a.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestAsyncConfigValidate(t *testing.T) {
	err := AsyncConfig{Buffer: -1, Workers: -1, MaxBatch: -1}.Validate()
	for _, want := range []string{"Buffer", "Workers", "MaxBatch"} {
		if !contains(err, want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}
