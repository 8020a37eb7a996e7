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
	latest := ok
	latest.StartFrom, latest.AllowLatest = "latest", true
	if err := latest.WithDefaults().Validate(); err != nil {
		t.Fatalf("latest with the opt-in: %v", err)
	}
	d := ok.WithDefaults()
	if d.EventRetentionDays != 30 || d.AnomalyRetentionDays != 180 {
		t.Errorf("retention defaults = %d/%d days, want 30/180", d.EventRetentionDays, d.AnomalyRetentionDays)
	}
	if d.PoisonMaxDeliveries != 5 {
		t.Errorf("PoisonMaxDeliveries default = %d, want 5", d.PoisonMaxDeliveries)
	}
	if d.InFlight != d.BatchRows*7/5 || d.Router.CloseTimeout != d.ShutdownTimeout {
		t.Errorf("defaults = in-flight %d for batch %d, close %s for shutdown %s", d.InFlight, d.BatchRows, d.Router.CloseTimeout, d.ShutdownTimeout)
	}
	// JetStream's window defaults to 5,000, Kafka's to 1.4 batches; an explicit
	// -in-flight sets both, -jetstream-in-flight JetStream's alone.
	if d.JetStreamInFlight != 5000 {
		t.Errorf("JetStreamInFlight default %d, want 5000", d.JetStreamInFlight)
	}
	set := ok
	set.InFlight = 3000
	if got := set.WithDefaults().JetStreamInFlight; got != 3000 {
		t.Errorf("JetStreamInFlight with InFlight 3000 = %d, want 3000", got)
	}
	set.JetStreamInFlight = 700
	if got := set.WithDefaults(); got.JetStreamInFlight != 700 || got.InFlight != 3000 {
		t.Errorf("explicit windows = %d/%d, want Kafka 3000, JetStream 700", got.InFlight, got.JetStreamInFlight)
	}
	js := consume(d, subscription{name: "auth_events", transport: schemas.TransportJetStream, topic: "auth.>"})
	kafka := consume(d, subscription{name: "telemetry_metrics", transport: schemas.TransportKafka, topic: "telemetry.metrics"})
	if js.InFlight != d.JetStreamInFlight || kafka.InFlight != d.InFlight {
		t.Errorf("consume windows: JetStream %d (want %d), Kafka %d (want %d)", js.InFlight, d.JetStreamInFlight, kafka.InFlight, d.InFlight)
	}

	bad := ok.WithDefaults()
	bad.NATSURL, bad.BufferRows, bad.AckWait, bad.PoisonMaxDeliveries = "", 1, time.Millisecond, -1
	bad.Limits.MaxPast = 90 * 24 * time.Hour
	bad.StartFrom = "latest" // without AllowLatest
	bad.EventRetentionDays = -1
	bad.MemoryLimitMiB = -2
	err := bad.Validate()
	for _, want := range []string{"NATSURL", "BufferRows", "AckWait", "MaxPast", "StartFrom latest", "PoisonMaxDeliveries", "EventRetentionDays (-event-retention-days) must be positive, got -1", "NATSURL (-nats-url", "MemoryLimitMiB (-memory-limit-mib) must be -1 (none), 0 (default) or positive, got -2"} {
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

// TestEveryRouteIsRead is the registry's consistency check on the ingest
// side: every declared type lands in a table ingest has a row builder for,
// every table ingest fills is some type's, and every destination an event
// of any type is published to — with the default routing, and with a type
// routed elsewhere — is read by a subscription into that type's table.
func TestEveryRouteIsRead(t *testing.T) {
	builders := map[string]bool{}
	for _, tb := range ingest.Tables() {
		builders[tb.Name] = true
	}
	for _, table := range schemas.Tables() {
		if !builders[table] {
			t.Errorf("table %s has no row builder in ingest.Tables", table)
		}
		delete(builders, table)
	}
	for table := range builders {
		t.Errorf("ingest has a row builder for %s, which no declared type lands in", table)
	}

	moved := schemas.DefaultRouting()
	moved.Routes[schemas.TypeLoginFailed] = schemas.Route{JetStream: &schemas.JetStreamTarget{Stream: "AUTH", Subject: "secure.{tenant}.{name}"}}
	for name, routing := range map[string]schemas.RoutingConfig{"default": schemas.DefaultRouting(), "login.failed moved": moved} {
		t.Run(name, func(t *testing.T) {
			routes, err := schemas.NewRoutingTable(routing)
			if err != nil {
				t.Fatal(err)
			}
			subs, err := subscriptions(routing, routes)
			if err != nil {
				t.Fatal(err)
			}
			for _, info := range schemas.Types() {
				env, err := sampleEvent(info)
				if err != nil {
					t.Fatalf("%s: %v", info.Short(), err)
				}
				dests, err := routes.Resolve(env)
				if err != nil {
					t.Fatalf("%s: %v", info.Short(), err)
				}
				read := false
				for _, d := range dests {
					for _, s := range subs {
						if !s.deadLetter && s.transport == d.Transport && matches(s.topic, d.Name()) {
							read = true
							if s.table.Name != info.Table {
								t.Errorf("%s published to %s is read into %s, not %s", info.Short(), d.Name(), s.table.Name, info.Table)
							}
						}
					}
				}
				if !read {
					t.Errorf("%s is published to %v and no subscription reads it", info.Short(), dests)
				}
			}
		})
	}
}

// matches: a subject or topic is read by a subscription's filter.
func matches(filter, name string) bool {
	if p, ok := strings.CutSuffix(filter, ">"); ok {
		return strings.HasPrefix(name, p)
	}
	return filter == name
}

// sampleEvent is an envelope of info's type that routing can resolve.
func sampleEvent(info schemas.TypeInfo) (schemas.Envelope, error) {
	if info.Type == schemas.TypeAnomaly {
		now := time.Now().UTC()
		return schemas.NewEvent("//test", "acme", schemas.Anomaly{Kind: "brute_force_user", Family: schemas.FamilyAuth,
			Entity: schemas.Entity{Type: "user", ID: "u"}, Severity: schemas.SeverityLow,
			WindowStart: now.Add(-time.Second), WindowEnd: now, Detector: "test"})
	}
	return schemas.Envelope{Type: info.Type, Tenant: "acme", ID: "x"}, nil
}

// A table's batches are no larger than the window of the subscription
// that feeds it: rows beyond the un-acked messages never come before the
// insert that acks them, so a batch would wait for its timer.
func TestBatchRowsFollowTheWindow(t *testing.T) {
	cfg := IngestConfig{BatchRows: 20000}.WithDefaults()
	auth := ingest.Table{Name: "auth_events"}
	metrics := ingest.Table{Name: "telemetry_metrics"}
	dead := ingest.Table{Name: ingest.DeadLettersTable}
	subs := []subscription{
		{name: "auth", table: auth, transport: schemas.TransportJetStream},
		{name: "metrics", table: metrics, transport: schemas.TransportKafka},
		{name: "dlq-telemetry", table: dead, transport: schemas.TransportKafka, deadLetter: true},
		{name: "dlq-auth", table: dead, transport: schemas.TransportJetStream, deadLetter: true},
	}
	got := batchRows(cfg, subs)
	want := map[string]int{"auth_events": cfg.JetStreamInFlight, "telemetry_metrics": 20000, ingest.DeadLettersTable: cfg.JetStreamInFlight}
	for table, n := range want {
		if got[table] != n {
			t.Errorf("batch rows of %s = %d, want %d (all: %v)", table, got[table], n, got)
		}
	}
	small := cfg
	small.InFlight = 3000
	if got := batchRows(small, subs[1:2])["telemetry_metrics"]; got != 3000 {
		t.Errorf("Kafka window 3000: batch rows %d, want 3000", got)
	}
}
