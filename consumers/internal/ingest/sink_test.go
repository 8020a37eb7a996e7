package ingest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

type fakeWriter struct {
	rows [][]any
	pos  []clickhouse.Position
	err  error
}

func (f *fakeWriter) Write(ctx context.Context, row ...any) error {
	if f.err != nil {
		return f.err
	}
	f.rows = append(f.rows, row)
	f.pos = append(f.pos, clickhouse.PositionFrom(ctx))
	return nil
}

// The sink hands the writer each message's place in its log when asked
// to (a writer batching for deduplication tokens), and nothing otherwise.
func TestSinkPassesPosition(t *testing.T) {
	metric := mustEvent(t, schemas.MetricSample{
		TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu.usage", Value: 1,
	})
	for _, on := range []bool{true, false} {
		msg := toMessage(metric)
		msg.SetContext(bus.WithRecord(context.Background(), "telemetry.metrics-2", 4711, 1))
		w := &fakeWriter{}
		s := NewSink("telemetry_metrics", w, MetricValues, schemas.DefaultLimits())
		s.Positions = on
		if err := s.Handle(msg); err != nil {
			t.Fatal(err)
		}
		want := clickhouse.Position{}
		if on {
			want = clickhouse.Position{Key: "telemetry.metrics-2", Seq: 4711}
		}
		if len(w.pos) != 1 || w.pos[0] != want {
			t.Fatalf("Positions %v: writer saw %v, want %v", on, w.pos, want)
		}
	}
}

func mustEvent(t *testing.T, p schemas.Payload) schemas.Envelope {
	t.Helper()
	env, err := schemas.NewEvent("//tributary/test", "t1", p)
	if err != nil {
		t.Fatalf("NewEvent: %v", err)
	}
	return env
}

func toMessage(env schemas.Envelope) *message.Message {
	msg := message.NewMessage(env.ID, message.Payload(env.Data))
	for k, v := range env.Metadata() {
		msg.Metadata.Set(k, v)
	}
	return msg
}

func TestSinkHandle(t *testing.T) {
	login := mustEvent(t, schemas.LoginFailed{
		AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "203.0.113.7", Geo: &schemas.Geo{Country: "DE", Lat: 52.5, Lon: 13.4}},
		Method:     schemas.MethodPassword, Reason: schemas.ReasonBadCredentials,
	})
	metric := mustEvent(t, schemas.MetricSample{
		TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "cpu.usage", Value: 0.93,
		Labels: map[string]string{"zone": "b", "env": "prod"},
	})
	badBody := toMessage(login)
	badBody.Payload = []byte(`{"user":`)
	unknown := toMessage(login)
	unknown.Metadata.Set(schemas.MetaType, "io.tributary.auth.teleported")
	wrongTable := toMessage(metric)

	tests := []struct {
		name       string
		msg        *message.Message
		values     ValuesFunc
		writerErr  error
		wantPoison bool
		wantErr    bool
		check      func(t *testing.T, row []any)
	}{
		{name: "auth login lands with its fields", msg: toMessage(login), values: AuthValues, check: func(t *testing.T, row []any) {
			if len(row) != len(AuthColumns) {
				t.Fatalf("row has %d values, want %d", len(row), len(AuthColumns))
			}
			if row[5] != "alice" || row[12] != "failure" || row[13] != "bad_credentials" || row[8] != "DE" {
				t.Errorf("row = %v", row)
			}
		}},
		{name: "metric labels are sorted parallel arrays", msg: toMessage(metric), values: MetricValues, check: func(t *testing.T, row []any) {
			if len(row) != len(MetricsColumns) {
				t.Fatalf("row has %d values, want %d", len(row), len(MetricsColumns))
			}
			keys, vals := row[7].([]string), row[8].([]string)
			if len(keys) != 2 || keys[0] != "env" || vals[0] != "prod" || keys[1] != "zone" {
				t.Errorf("labels = %v %v", keys, vals)
			}
		}},
		{name: "undecodable body is poison", msg: badBody, values: AuthValues, wantErr: true, wantPoison: true},
		{name: "unknown type is poison", msg: unknown, values: AuthValues, wantErr: true, wantPoison: true},
		{name: "event for another table is poison", msg: wrongTable, values: AuthValues, wantErr: true, wantPoison: true},
		{name: "clickhouse refusing the row is poison", msg: toMessage(login), values: AuthValues,
			writerErr: clickhouse.ErrPermanent, wantErr: true, wantPoison: true},
		{name: "clickhouse unreachable is retried, not poison", msg: toMessage(login), values: AuthValues,
			writerErr: errors.New("dial tcp 127.0.0.1:9000: connection refused"), wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &fakeWriter{err: tt.writerErr}
			s := NewSink("t", w, tt.values, schemas.DefaultLimits())
			err := s.Handle(tt.msg)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Handle() = %v, wantErr %v", err, tt.wantErr)
			}
			if got := IsPoison(err); err != nil && got != tt.wantPoison {
				t.Fatalf("IsPoison(%v) = %v, want %v", err, got, tt.wantPoison)
			}
			if tt.check != nil {
				if len(w.rows) != 1 {
					t.Fatalf("wrote %d rows, want 1", len(w.rows))
				}
				tt.check(t, w.rows[0])
			}
		})
	}
}

func TestSinkRejectsStaleEvent(t *testing.T) {
	env := mustEvent(t, schemas.Logout{User: "bob"})
	w := &fakeWriter{}
	s := NewSink("t", w, AuthValues, schemas.DefaultLimits())
	s.now = func() time.Time { return env.Time.Add(30 * 24 * time.Hour) }
	err := s.Handle(toMessage(env))
	if !IsPoison(err) || len(w.rows) != 0 {
		t.Fatalf("a month-old event: err %v, rows %d; want poison and no row", err, len(w.rows))
	}
}

// An event whose tenant header is not the tenant of its subject is poison
// (dead-lettered with tenant_mismatch), not ingested.
func TestSinkRefusesAnotherTenantsSubject(t *testing.T) {
	routes, err := schemas.NewRoutingTable(schemas.DefaultRouting())
	if err != nil {
		t.Fatal(err)
	}
	login := mustEvent(t, schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "203.0.113.7"},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
	for _, tt := range []struct {
		origin string
		poison bool
	}{{"auth.t1.login.failed", false}, {"auth.globex.login.failed", true}} {
		msg := toMessage(login)
		msg.SetContext(bus.WithOrigin(context.Background(), tt.origin))
		w := &fakeWriter{}
		s := NewSink("auth_events", w, AuthValues, schemas.DefaultLimits())
		s.CheckOrigin = func(env schemas.Envelope, origin string) error {
			return routes.CheckTenant(env, schemas.TransportJetStream, origin)
		}
		err := s.Handle(msg)
		if got := err != nil && IsPoison(err) && errors.Is(err, schemas.ErrTenantMismatch); got != tt.poison {
			t.Fatalf("origin %s: err = %v, want poison %v", tt.origin, err, tt.poison)
		}
		if tt.poison == (len(w.rows) == 1) {
			t.Fatalf("origin %s: %d rows written", tt.origin, len(w.rows))
		}
	}
}
