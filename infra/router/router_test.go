package router

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

var errBad = errors.New("bad event")

// TestStackDeadLettersOnlyPoison runs the real stack over an in-memory
// pub/sub: a poison error goes to the dead-letter topic at once; a transient
// one is retried in place and never dead-lettered.
func TestStackDeadLettersOnlyPoison(t *testing.T) {
	tests := []struct {
		name        string
		failures    int32 // how many attempts fail before success
		err         error
		wantDLQ     bool
		wantHandled int32
	}{
		{name: "poison goes to the dead-letter topic once", failures: 100, err: errBad, wantDLQ: true, wantHandled: 1},
		{name: "transient error is retried, then succeeds", failures: 2, err: errors.New("connection refused"), wantHandled: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			ps := gochannel.NewGoChannel(gochannel.Config{Persistent: true}, watermill.NopLogger{})
			r, err := New(Config{RetryMax: 3, RetryInitial: time.Millisecond, RetryMaxInterval: 5 * time.Millisecond}, nil)
			if err != nil {
				t.Fatal(err)
			}
			var calls atomic.Int32
			done := make(chan struct{}, 1)
			h := r.AddConsumerHandler("h", "in", ps, func(msg *message.Message) error {
				if calls.Add(1) <= tt.failures {
					return tt.err
				}
				done <- struct{}{}
				return nil
			})
			poison, err := DeadLetter(DeadLetterConfig{Publisher: ps, Topic: "dlq", IsPoison: func(err error) bool { return errors.Is(err, errBad) },
				Store: func(context.Context, *message.Message) error {
					return errors.New("the destination took it: Store must not run")
				}})
			if err != nil {
				t.Fatal(err)
			}
			h.AddMiddleware(poison)
			dlq, err := ps.Subscribe(ctx, "dlq")
			if err != nil {
				t.Fatal(err)
			}
			go func() { _ = r.Run(ctx) }()
			<-r.Running()
			if err := ps.Publish("in", message.NewMessage("m1", []byte("x"))); err != nil {
				t.Fatal(err)
			}
			if tt.wantDLQ {
				select {
				case m := <-dlq:
					m.Ack()
					if m.UUID != "m1" || m.Metadata.Get("reason_poisoned") == "" {
						t.Fatalf("dead letter %s has reason %q", m.UUID, m.Metadata.Get("reason_poisoned"))
					}
				case <-ctx.Done():
					t.Fatal("no dead letter")
				}
			} else {
				select {
				case <-done:
				case m := <-dlq:
					t.Fatalf("transient failure dead-lettered %s", m.UUID)
				case <-ctx.Done():
					t.Fatal("handler never succeeded")
				}
			}
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			if got := calls.Load(); got != tt.wantHandled {
				t.Fatalf("handler ran %d times, want %d", got, tt.wantHandled)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	if err := (Config{}).WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	err := Config{RetryMax: -1, RetryInitial: time.Second, RetryMaxInterval: time.Millisecond, CloseTimeout: -1}.Validate()
	for _, want := range []string{"RetryMax -1", "RetryMaxInterval", "CloseTimeout"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want mention of %s", err, want)
		}
	}
}
