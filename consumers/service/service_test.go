package service

import (
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/consumers/internal/ingest"
	"github.com/tributary-io/tributary/schemas"
)

func TestIngestConfigValidate(t *testing.T) {
	ok := IngestConfig{NATSURL: "nats://x", KafkaBrokers: []string{"k:9092"}}
	ok.ClickHouse.Addr = "c:9000"
	if err := ok.WithDefaults().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	d := ok.WithDefaults()
	if d.InFlight != 2*d.BatchRows || d.Router.CloseTimeout != d.ShutdownTimeout {
		t.Errorf("defaults = in-flight %d for batch %d, close %s for shutdown %s", d.InFlight, d.BatchRows, d.Router.CloseTimeout, d.ShutdownTimeout)
	}

	bad := ok.WithDefaults()
	bad.NATSURL, bad.BufferRows, bad.AckWait = "", 1, time.Millisecond
	bad.Limits.MaxPast = 90 * 24 * time.Hour
	err := bad.Validate()
	for _, want := range []string{"NATSURL", "BufferRows", "AckWait", "MaxPast"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to name %s", err, want)
		}
	}
}

func TestSubscriptions(t *testing.T) {
	routes := schemas.DefaultRoutingTable()
	subs, err := subscriptions(schemas.DefaultRouting(), routes)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]subscription{}
	for _, s := range subs {
		if _, dup := got[s.name]; dup {
			t.Fatalf("handler %s registered twice", s.name)
		}
		got[s.name] = s
	}
	want := map[string]struct {
		tr    schemas.Transport
		topic string
	}{
		ingest.AuthTable:       {schemas.TransportJetStream, "auth.>"},
		ingest.TaskTable:       {schemas.TransportJetStream, "task.>"},
		ingest.MetricsTable:    {schemas.TransportKafka, "telemetry.metrics"},
		ingest.LogsTable:       {schemas.TransportKafka, "telemetry.logs"},
		ingest.HeartbeatsTable: {schemas.TransportKafka, "telemetry.heartbeats"},
		// Anomalies go to both transports; the sink reads Kafka only.
		ingest.AnomaliesTable: {schemas.TransportKafka, "anomalies"},
		"dlq":                 {schemas.TransportJetStream, "dlq.>"},
		"dlq-auth":            {schemas.TransportKafka, "dlq.auth"},
		"dlq-unknown":         {schemas.TransportKafka, "dlq.unknown"},
	}
	for name, w := range want {
		s, ok := got[name]
		if !ok || s.transport != w.tr || s.topic != w.topic {
			t.Errorf("%s = %+v, want %s %s", name, s, w.tr, w.topic)
		}
	}
	if n := len(subs); n != 6+1+len(schemas.Families())+1 {
		t.Errorf("%d subscriptions", n)
	}
}

func TestSubjectFilter(t *testing.T) {
	for in, want := range map[string]string{
		"auth.{tenant}.{name}": "auth.>", "dlq.{family}": "dlq.>", "fixed.subject": "fixed.subject", "{family}.x": ">",
	} {
		if got := subjectFilter(in); got != want {
			t.Errorf("subjectFilter(%q) = %q, want %q", in, got, want)
		}
	}
}
