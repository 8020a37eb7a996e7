package publish

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

type sent struct {
	topic string
	msg   *message.Message
}

type fakeTransport struct {
	sent []sent
	err  error
}

func (f *fakeTransport) Publish(topic string, msgs ...*message.Message) error {
	if f.err != nil {
		return f.err
	}
	for _, m := range msgs {
		f.sent = append(f.sent, sent{topic, m})
	}
	return nil
}

func event(t *testing.T, p schemas.Payload) schemas.Envelope {
	t.Helper()
	env, err := schemas.NewEvent("//tributary/test", "t1", p)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func TestPublishRoutes(t *testing.T) {
	login := event(t, schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "198.51.100.4"},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
	metric := event(t, schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu", Value: 1})
	bare := login
	bare.ID, bare.Source = "", ""
	invalid := event(t, schemas.Logout{User: "bob"})
	invalid.Tenant = ""

	tests := []struct {
		name      string
		env       schemas.Envelope
		noKafka   bool
		kafkaErr  error
		wantTopic map[schemas.Transport]string
		wantKey   string
		wantErr   string
	}{
		{name: "auth goes to its JetStream subject, keyed by user", env: login,
			wantTopic: map[schemas.Transport]string{schemas.TransportJetStream: "auth.t1.login.failed"}, wantKey: "alice"},
		{name: "metrics go to Kafka, keyed by host", env: metric,
			wantTopic: map[schemas.Transport]string{schemas.TransportKafka: "telemetry.metrics"}, wantKey: "web-1"},
		{name: "missing id and source are stamped", env: bare,
			wantTopic: map[schemas.Transport]string{schemas.TransportJetStream: "auth.t1.login.failed"}, wantKey: "alice"},
		{name: "invalid event is refused, naming the field", env: invalid, wantErr: `"tenant"`},
		{name: "route to a transport not configured fails", env: metric, noKafka: true, wantErr: "no kafka transport"},
		{name: "broker error is returned with the destination", env: metric, kafkaErr: errors.New("not enough replicas"),
			wantErr: "not enough replicas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js, kafka := &fakeTransport{}, &fakeTransport{err: tt.kafkaErr}
			transports := map[schemas.Transport]Transport{schemas.TransportJetStream: js, schemas.TransportKafka: kafka}
			if tt.noKafka {
				delete(transports, schemas.TransportKafka)
			}
			// One attempt: retries have their own tests (retry_test.go).
			c, err := New(Config{Source: "//tributary/sdk-test", Retry: RetryConfig{MaxAttempts: 1}}, transports)
			if err != nil {
				t.Fatal(err)
			}
			got, err := c.Publish(context.Background(), tt.env)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Publish() = %v, want error containing %s", err, tt.wantErr)
				}
				if len(js.sent)+len(kafka.sent) != 0 {
					t.Fatal("an invalid event was published")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := uuid.Parse(got.ID); err != nil || got.Source == "" {
				t.Fatalf("not stamped: id %q source %q", got.ID, got.Source)
			}
			all := map[schemas.Transport][]sent{schemas.TransportJetStream: js.sent, schemas.TransportKafka: kafka.sent}
			for tr, msgs := range all {
				want, ok := tt.wantTopic[tr]
				if !ok {
					if len(msgs) != 0 {
						t.Fatalf("%s got %d messages, want none", tr, len(msgs))
					}
					continue
				}
				if len(msgs) != 1 || msgs[0].topic != want {
					t.Fatalf("%s got %v, want one message on %s", tr, msgs, want)
				}
				m := msgs[0].msg
				if m.UUID != got.ID || m.Metadata.Get(schemas.MetaID) != got.ID || m.Metadata.Get(schemas.MetaPartitionKey) != tt.wantKey {
					t.Fatalf("message uuid %s, ce_id %s, key %q; want id %s key %q", m.UUID,
						m.Metadata.Get(schemas.MetaID), m.Metadata.Get(schemas.MetaPartitionKey), got.ID, tt.wantKey)
				}
			}
		})
	}
}
