package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestTraceContinues: the traceparent a producer stamps on an event is
// continued by ingest — a consumer span child of the producer's span, and
// the ClickHouse insert's span linked to it — and the test log prints the
// event's way through the spans.
func TestTraceContinues(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant := "e2e" + id
	spans := tracetest.NewInMemoryExporter()
	tp, shutdown, err := observe.NewTracerProvider("ingest", sdktrace.NewSimpleSpanProcessor(spans), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer shutdown(context.Background())
	cfg := ingestConfig(t, env, id)
	cfg.TracerProvider = tp
	startIngest(ctx, t, cfg)
	pub, conn := clients(ctx, t, env, cfg.ClickHouse.Database)

	const tp0 = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	ev, err := schemas.NewEvent("//tributary/e2e", tenant, schemas.LoginFailed{
		AuthOrigin: schemas.AuthOrigin{User: "traced", SourceIP: "192.0.2.1"}, Method: schemas.MethodPassword,
		Reason: schemas.ReasonBadCredentials}, schemas.WithTraceParent(tp0))
	if err != nil {
		t.Fatal(err)
	}
	sent, err := pub.Publish(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	poll.Eventually(t, time.Minute, 100*time.Millisecond, func() error {
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM auth_events WHERE event_id = toUUID(?)", sent.ID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return fmt.Errorf("event %s not in auth_events", sent.ID)
		}
		return nil
	})

	var consume, insert *tracetest.SpanStub
	poll.Eventually(t, 10*time.Second, 50*time.Millisecond, func() error {
		for _, s := range spans.GetSpans() {
			switch {
			case s.Name == "consume auth_events" && s.SpanContext.TraceID().String() == "4bf92f3577b34da6a3ce929d0e0e4736":
				consume = &s
			case s.Name == "clickhouse insert auth_events" && consume != nil && linksTo(s.Links, consume.SpanContext):
				insert = &s
			}
		}
		if consume == nil || insert == nil {
			return fmt.Errorf("spans: consume %v, insert %v (of %d spans)", consume != nil, insert != nil, len(spans.GetSpans()))
		}
		return nil
	})
	if consume.Parent.SpanID().String() != "00f067aa0ba902b7" {
		t.Errorf("consume span's parent %s, want the producer's span 00f067aa0ba902b7", consume.Parent.SpanID())
	}
	if consume.SpanKind != trace.SpanKindConsumer {
		t.Errorf("consume span kind %s", consume.SpanKind)
	}
	t.Logf("event %s, traceparent %s:\n  producer span 00f067aa0ba902b7\n  └ %s (span %s, %s, attrs %v)\n  insert span %s %q linked to it (trace %s, %s, attrs %v)",
		sent.ID, tp0, consume.Name, consume.SpanContext.SpanID(), consume.EndTime.Sub(consume.StartTime).Round(time.Microsecond), consume.Attributes,
		insert.SpanContext.SpanID(), insert.Name, insert.SpanContext.TraceID(), insert.EndTime.Sub(insert.StartTime).Round(time.Microsecond), insert.Attributes)
}

func linksTo(links []sdktrace.Link, sc trace.SpanContext) bool {
	for _, l := range links {
		if l.SpanContext.SpanID() == sc.SpanID() && l.SpanContext.TraceID() == sc.TraceID() {
			return true
		}
	}
	return false
}
