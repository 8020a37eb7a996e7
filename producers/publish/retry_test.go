package publish

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/schemas"
)

func TestPublishRetries(t *testing.T) {
	unreachable := errors.New("dial tcp 127.0.0.1:4222: connect: connection refused")
	retry := RetryConfig{MaxAttempts: 4, InitialBackoff: 100 * time.Millisecond, MaxBackoff: 300 * time.Millisecond}
	tests := []struct {
		name      string
		retry     RetryConfig
		errs      []error
		wantCalls int
		wantWaits []time.Duration
		wantIs    []error // nil: success
		wantNotIs []error
	}{
		{name: "success needs no retry", retry: retry, wantCalls: 1},
		{name: "transient errors are retried with doubling, capped backoff", retry: retry,
			errs: []error{unreachable, context.DeadlineExceeded, io.ErrUnexpectedEOF}, wantCalls: 4,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond}},
		{name: "kafka temporary protocol errors are retried", retry: retry,
			errs: []error{kafka.NotEnoughReplicas, kafka.WriteErrors{kafka.LeaderNotAvailable}}, wantCalls: 3,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond}},
		{name: "attempts are bounded", retry: retry,
			errs: []error{unreachable, unreachable, unreachable, unreachable, unreachable}, wantCalls: 4,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 300 * time.Millisecond},
			wantIs:    []error{ErrUnavailable}, wantNotIs: []error{schemas.ErrInvalid}},
		{name: "elapsed budget is bounded", retry: RetryConfig{MaxAttempts: 100, InitialBackoff: time.Second, MaxElapsed: 2500 * time.Millisecond},
			errs: []error{unreachable, unreachable, unreachable, unreachable}, wantCalls: 2,
			wantWaits: []time.Duration{time.Second}, wantIs: []error{ErrUnavailable}},
		{name: "NATS max payload is permanent and means too large", retry: retry,
			errs: []error{nats.ErrMaxPayload}, wantCalls: 1, wantIs: []error{schemas.ErrTooLarge, schemas.ErrInvalid}},
		{name: "Kafka message too large is permanent", retry: retry,
			errs: []error{fmt.Errorf("kafka publish: %w", kafka.WriteErrors{kafka.MessageSizeTooLarge})}, wantCalls: 1,
			wantIs: []error{schemas.ErrTooLarge}},
		{name: "Kafka authorization failure is permanent", retry: retry,
			errs: []error{kafka.TopicAuthorizationFailed}, wantCalls: 1, wantIs: []error{kafka.TopicAuthorizationFailed},
			wantNotIs: []error{ErrUnavailable}},
		{name: "closed connection is permanent", retry: retry,
			errs: []error{nats.ErrConnectionClosed}, wantCalls: 1, wantIs: []error{ErrClosed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := &scripted{errs: tt.errs}
			c, waits := testClient(t, tt.retry, map[schemas.Transport]Transport{schemas.TransportJetStream: js})
			now := time.Now()
			c.now = func() time.Time { return now }
			c.sleep = func(_ context.Context, d time.Duration) error {
				*waits = append(*waits, d)
				now = now.Add(d) // the budget counts waits
				return nil
			}
			_, err := c.Publish(context.Background(), loginEvent(t))
			calls, _ := js.snapshot()
			if calls != tt.wantCalls {
				t.Errorf("transport called %d times, want %d", calls, tt.wantCalls)
			}
			if !reflect.DeepEqual(*waits, tt.wantWaits) && len(*waits)+len(tt.wantWaits) > 0 {
				t.Errorf("waits %v, want %v", *waits, tt.wantWaits)
			}
			if tt.wantIs == nil {
				if err != nil {
					t.Fatalf("Publish() = %v, want success", err)
				}
				m := c.Metrics()
				if m.Published != 1 || m.Transports[schemas.TransportJetStream].Retries != uint64(tt.wantCalls-1) {
					t.Fatalf("metrics %+v", m)
				}
				return
			}
			for _, target := range tt.wantIs {
				if !errors.Is(err, target) {
					t.Errorf("Publish() = %v, want errors.Is %v", err, target)
				}
			}
			for _, target := range tt.wantNotIs {
				if errors.Is(err, target) {
					t.Errorf("Publish() = %v, must not match %v", err, target)
				}
			}
			if m := c.Metrics(); m.Failed != 1 || m.Transports[schemas.TransportJetStream].Failed != 1 {
				t.Fatalf("metrics %+v, want one failure", m)
			}
		})
	}
}

func TestPublishPermanentErrorsAreNotSent(t *testing.T) {
	invalid := loginEvent(t)
	invalid.Tenant = ""
	metric := event(t, schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu", Value: 1})
	huge := loginEvent(t)
	huge.Subject = string(make([]byte, 2<<20))

	tests := []struct {
		name   string
		env    schemas.Envelope
		wantIs error
		want   string
	}{
		{"validation names the field", invalid, schemas.ErrInvalid, `"tenant"`},
		{"no transport for the route", metric, ErrNoRoute, "no kafka transport"},
		{"too large for the limits", huge, schemas.ErrTooLarge, "limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := &scripted{}
			c, waits := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{schemas.TransportJetStream: js})
			_, err := c.Publish(context.Background(), tt.env)
			if !errors.Is(err, tt.wantIs) || !contains(err, tt.want) {
				t.Fatalf("Publish() = %v, want %v naming %s", err, tt.wantIs, tt.want)
			}
			if calls, _ := js.snapshot(); calls != 0 || len(*waits) != 0 {
				t.Fatalf("sent %d times with waits %v, want no attempt", calls, *waits)
			}
			if m := c.Metrics(); m.Invalid != 1 {
				t.Fatalf("metrics %+v, want one invalid", m)
			}
		})
	}
}

func TestPublishStopsRetryingWhenCtxEnds(t *testing.T) {
	js := &scripted{errs: []error{io.EOF, io.EOF, io.EOF}}
	c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{schemas.TransportJetStream: js})
	ctx, cancel := context.WithCancel(context.Background())
	c.sleep = func(context.Context, time.Duration) error { cancel(); return context.Canceled }
	_, err := c.Publish(ctx, loginEvent(t))
	if !errors.Is(err, context.Canceled) || !errors.Is(err, io.EOF) {
		t.Fatalf("Publish() = %v, want the cancellation and the last error", err)
	}
}

func TestRetryConfigValidate(t *testing.T) {
	if err := DefaultRetry(RetryConfig{}).Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	err := RetryConfig{MaxAttempts: -1, InitialBackoff: time.Second, MaxBackoff: time.Millisecond}.Validate()
	for _, want := range []string{"MaxAttempts", "MaxBackoff", "MaxElapsed", "AttemptTimeout"} {
		if !contains(err, want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestEqualJitterStaysInRange(t *testing.T) {
	for range 1000 {
		if d := equalJitter(time.Second); d < 500*time.Millisecond || d >= time.Second {
			t.Fatalf("jitter %s outside [500ms, 1s)", d)
		}
	}
}
