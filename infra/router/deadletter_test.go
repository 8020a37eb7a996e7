package router

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/tributary-io/tributary/infra/bus"
)

// fakePub records publishes and fails them with err.
type fakePub struct {
	mu   sync.Mutex
	err  error
	sent []*message.Message
}

func (p *fakePub) Publish(_ string, msgs ...*message.Message) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err != nil {
		return p.err
	}
	p.sent = append(p.sent, msgs...)
	return nil
}

func (p *fakePub) Close() error { return nil }

// fakeStore records what the terminal path stored.
type fakeStore struct {
	err    error
	stored []*message.Message
}

func (s *fakeStore) Store(_ context.Context, msg *message.Message) error {
	if s.err != nil {
		return s.err
	}
	s.stored = append(s.stored, msg)
	return nil
}

var errDown = errors.New("clickhouse: connection refused")

// runDeadLetter runs the middleware once over a handler failing with
// handlerErr, on the attempt-th delivery of a message; it returns the
// middleware's error and whether the message was terminated.
func runDeadLetter(t *testing.T, pub *fakePub, store *fakeStore, handlerErr error, attempt int) (error, bool) {
	t.Helper()
	mw, err := DeadLetter(DeadLetterConfig{Publisher: pub, Topic: "dlq.auth", IsPoison: func(err error) bool { return errors.Is(err, errBad) },
		Store: store.Store, MaxDeliveries: 3})
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage("m1", []byte("payload"))
	ctx := bus.WithRecord(t.Context(), "auth-0", 0, attempt)
	msg.SetContext(ctx)
	_, err = mw(func(*message.Message) ([]*message.Message, error) { return nil, handlerErr })(msg)
	return err, bus.Terminated(ctx)
}

// Issue 11, item 3: a poison record too large for its dead-letter
// destination was nacked and redelivered forever, stalling its partition.
func TestDeadLetterRefusedGoesToTerminalPath(t *testing.T) {
	tooLarge := fmt.Errorf("kafka publish: %w: [10] Message Size Too Large", bus.ErrRefused)
	pub, store := &fakePub{err: tooLarge}, &fakeStore{}
	err, terminated := runDeadLetter(t, pub, store, errBad, 1)
	if err != nil || !terminated {
		t.Fatalf("err = %v, terminated = %v: a refused dead letter must be stored directly and acked as terminal", err, terminated)
	}
	if len(store.stored) != 1 {
		t.Fatalf("stored %d dead letters directly, want 1", len(store.stored))
	}
	md := store.stored[0].Metadata
	if md.Get(middleware.ReasonForPoisonedKey) != errBad.Error() || !strings.Contains(md.Get(DeadLetterErrorKey), "Too Large") {
		t.Fatalf("stored metadata %v: want the poison reason and the publish error", md)
	}
}

func TestDeadLetterBoundsRedeliveryOfFailingPublish(t *testing.T) {
	pub := &fakePub{err: errors.New("kafka: leader not available")}
	for attempt := 1; attempt < 3; attempt++ {
		store := &fakeStore{}
		err, terminated := runDeadLetter(t, pub, store, errBad, attempt)
		if err == nil || terminated || len(store.stored) != 0 {
			t.Fatalf("delivery %d: err = %v, terminated %v, stored %d: below the bound the message must be redelivered",
				attempt, err, terminated, len(store.stored))
		}
	}
	store := &fakeStore{}
	if err, terminated := runDeadLetter(t, pub, store, errBad, 3); err != nil || !terminated || len(store.stored) != 1 {
		t.Fatalf("delivery 3 of 3: err = %v, terminated %v, stored %d: want the terminal path", err, terminated, len(store.stored))
	}
	// A transport that does not count deliveries must not loop forever.
	store = &fakeStore{}
	if err, _ := runDeadLetter(t, pub, store, errBad, 0); err != nil || len(store.stored) != 1 {
		t.Fatalf("unknown delivery count: err = %v, stored %d: want the terminal path", err, len(store.stored))
	}
}

func TestDeadLetterNotStoredIsNeverAcked(t *testing.T) {
	pub := &fakePub{err: fmt.Errorf("%w: too large", bus.ErrRefused)}
	store := &fakeStore{err: errDown}
	err, terminated := runDeadLetter(t, pub, store, errBad, 10)
	if err == nil || terminated || !errors.Is(err, errDown) {
		t.Fatalf("err = %v, terminated = %v: a dead letter that cannot be stored must be redelivered", err, terminated)
	}
}

// The bound is for poison only: a good event failing on a server's state
// (ClickHouse down, a table detached) is redelivered however often it
// takes, and never reaches a dead-letter destination.
func TestDeadLetterServerErrorsAreNeverBounded(t *testing.T) {
	pub, store := &fakePub{}, &fakeStore{}
	err, terminated := runDeadLetter(t, pub, store, errDown, 1_000_000)
	if !errors.Is(err, errDown) || terminated || len(pub.sent) != 0 || len(store.stored) != 0 {
		t.Fatalf("err = %v, terminated %v, published %d, stored %d: want the error passed through untouched",
			err, terminated, len(pub.sent), len(store.stored))
	}
}

func TestDeadLetterPublishedIsAcked(t *testing.T) {
	pub, store := &fakePub{}, &fakeStore{}
	err, terminated := runDeadLetter(t, pub, store, errBad, 1)
	if err != nil || terminated || len(pub.sent) != 1 || len(store.stored) != 0 {
		t.Fatalf("err = %v, terminated %v, published %d, stored %d", err, terminated, len(pub.sent), len(store.stored))
	}
	if pub.sent[0].Metadata.Get(middleware.ReasonForPoisonedKey) != errBad.Error() {
		t.Fatalf("dead letter metadata %v", pub.sent[0].Metadata)
	}
}

func TestDeadLetterConfigValidate(t *testing.T) {
	_, err := DeadLetter(DeadLetterConfig{MaxDeliveries: -1})
	for _, want := range []string{"Publisher", "Topic", "IsPoison", "Store", "MaxDeliveries -1"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("DeadLetter(empty) = %v, want mention of %s", err, want)
		}
	}
}
