package ingest

import (
	"context"
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// BenchmarkSinkRow is the ingest's CPU per event that needs no server:
// decode, validate and make the row, for a metric (as []any and typed)
// and a failed login.
func BenchmarkSinkRow(b *testing.B) {
	metric := schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"},
		Name: "http.server.duration", Value: 0.042, Unit: "s", Kind: "gauge", Labels: map[string]string{"code": "200", "route": "/login"}}
	login := schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "u-1001", SourceIP: "203.0.113.7", UserAgent: "Mozilla/5.0",
		Geo: &schemas.Geo{Country: "DE", Lat: 52.52, Lon: 13.405}}, Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials}
	for _, bc := range []struct {
		name  string
		p     schemas.Payload
		table string
		vals  ValuesFunc
		typed TypedFunc
	}{
		{"metric", metric, MetricsTable, MetricValues, nil},
		{"metric-typed", metric, MetricsTable, MetricValues, MetricTyped},
		{"login-failed", login, AuthTable, AuthValues, nil},
	} {
		env, err := schemas.NewEvent("//tributary/bench", "acme", bc.p)
		if err != nil {
			b.Fatal(err)
		}
		msg := toMessage(env)
		delete(msg.Metadata, schemas.MetaID) // the transports carry it as the UUID
		s := NewSink(bc.table, nil, bc.vals, schemas.DefaultLimits())
		s.Typed = bc.typed
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Row(msg); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// nopWriter resolves every row at once.
type nopWriter struct{}

func (nopWriter) WriteAsync(_ context.Context, done func(error), _ []any) error {
	done(nil)
	return nil
}
func (nopWriter) WriteRowAsync(_ context.Context, done func(error), _ clickhouse.TypedRow) error {
	done(nil)
	return nil
}

// BenchmarkPipe is a metric through a Pipe (one worker) to a writer that
// resolves at once: BenchmarkSinkRow plus the message's handling and ack.
func BenchmarkPipe(b *testing.B) {
	env, err := schemas.NewEvent("//tributary/bench", "acme", schemas.MetricSample{
		TelemetrySource: schemas.TelemetrySource{Host: "web-1", Service: "api"}, Name: "http.server.duration", Value: 0.042,
		Unit: "s", Kind: "gauge", Labels: map[string]string{"code": "200", "route": "/login"}})
	if err != nil {
		b.Fatal(err)
	}
	s := NewSink(MetricsTable, nil, MetricValues, schemas.DefaultLimits())
	s.Typed = MetricTyped
	p, err := NewPipe(PipeConfig{Sink: s, Writer: nopWriter{}, Workers: 1,
		DeadLetter: func(*message.Message, error) error { return nil }})
	if err != nil {
		b.Fatal(err)
	}
	msgs := make(chan *message.Message, 1024)
	go p.Run(msgs)
	b.ReportAllocs()
	for b.Loop() {
		msg := toMessage(env)
		delete(msg.Metadata, schemas.MetaID)
		msgs <- msg
		<-msg.Acked()
	}
	close(msgs)
	<-p.Stopped()
}
