package schemas

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestDefaultRoutingResolve(t *testing.T) {
	js := func(stream, subject, key string) Destination {
		return Destination{Transport: TransportJetStream, Stream: stream, Subject: subject, Key: key}
	}
	kafka := func(topic, key string) Destination {
		return Destination{Transport: TransportKafka, Topic: topic, Key: key}
	}
	tests := []struct {
		typ  string
		want []Destination
	}{
		{TypeLoginFailed, []Destination{js("AUTH", "auth.acme.login.failed", "u-1001")}},
		{TypeLogout, []Destination{js("AUTH", "auth.acme.logout", "u-1001")}},
		{TypePermissionDenied, []Destination{js("AUTH", "auth.acme.permission.denied", "u-1001")}},
		{TypeTaskFailed, []Destination{js("TASKS", "task.acme.failed", "task-42")}},
		{TypeTaskTimedOut, []Destination{js("TASKS", "task.acme.timed_out", "task-42")}},
		{TypeMetric, []Destination{kafka("telemetry.metrics", "web-1")}},
		{TypeLog, []Destination{kafka("telemetry.logs", "web-1")}},
		{TypeHeartbeat, []Destination{kafka("telemetry.heartbeats", "web-1")}},
		{TypeAnomaly, []Destination{js("ANOMALIES", "anomaly.acme.brute_force", "ip:203.0.113.7"), kafka("anomalies", "ip:203.0.113.7")}},
	}
	rc := DefaultRoutingTable()
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			got, err := rc.Resolve(sampleEvent(tt.typ))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
	// Every registered type resolves with its sample.
	for _, info := range Types() {
		if _, err := rc.Resolve(sampleEvent(info.Type)); err != nil {
			t.Errorf("%s: %v", info.Short(), err)
		}
	}
}

func TestResolveKeyAndErrors(t *testing.T) {
	env := sampleEvent(TypeLogout)
	env.PartitionKey = ""
	if d, _ := DefaultRoutingTable().Resolve(env); d[0].Key != "acme" {
		t.Errorf("empty partition key should fall back to tenant, got %q", d[0].Key)
	}
	cfg := DefaultRouting()
	cfg.Routes[TypeLogout] = Route{Kafka: &KafkaTarget{Topic: "auth.{name}"}, Key: KeyID}
	rc, err := NewRoutingTable(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Routes[TypeLogout].Kafka.Topic = "changed.after.construction"
	if d, _ := rc.Resolve(sampleEvent(TypeLogout)); d[0].Key != sampleEvent(TypeLogout).ID || d[0].Topic != "auth.logout" {
		t.Errorf("type override with id key: %+v", d)
	}
	tests := []struct {
		name   string
		mutate func(*Envelope)
		want   error
	}{
		{"unknown type", func(e *Envelope) { e.Type = "io.tributary.auth.nope" }, ErrUnknownType},
		{"tenant injection", func(e *Envelope) { e.Tenant = "a.>" }, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := sampleEvent(TypeLoginFailed)
			tt.mutate(&env)
			if _, err := DefaultRoutingTable().Resolve(env); !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
	anomaly := sampleEvent(TypeAnomaly)
	setData(func(m map[string]any) { m["kind"] = "a.*" })(&anomaly)
	if _, err := DefaultRoutingTable().Resolve(anomaly); !errors.Is(err, ErrInvalid) {
		t.Errorf("kind injection: got %v, want ErrInvalid", err)
	}
}

func TestDeadLetterFor(t *testing.T) {
	rc := DefaultRoutingTable()
	tests := []struct {
		fam  Family
		tr   Transport
		want Destination
	}{
		{FamilyAuth, TransportJetStream, Destination{Transport: TransportJetStream, Stream: "DLQ", Subject: "dlq.auth"}},
		{FamilyTelemetry, TransportKafka, Destination{Transport: TransportKafka, Topic: "dlq.telemetry"}},
		{FamilyOf("garbage"), TransportKafka, Destination{Transport: TransportKafka, Topic: "dlq.unknown"}},
		{Family("a.>"), TransportJetStream, Destination{Transport: TransportJetStream, Stream: "DLQ", Subject: "dlq.unknown"}},
	}
	for _, tt := range tests {
		got, err := rc.DeadLetterFor(tt.fam, tt.tr)
		if err != nil || got != tt.want {
			t.Errorf("DeadLetterFor(%s, %s) = %+v, %v; want %+v", tt.fam, tt.tr, got, err, tt.want)
		}
	}
	if _, err := rc.DeadLetterFor(FamilyAuth, "carrier-pigeon"); err == nil {
		t.Error("unknown transport should fail")
	}
}

func TestProvisioning(t *testing.T) {
	p := DefaultRoutingTable().Provisioning()
	streams := map[string][]string{}
	for _, s := range p.Streams {
		streams[s.Name] = s.Subjects
	}
	if got := streams["TASKS"]; !reflect.DeepEqual(got, []string{
		"task.*.cancelled", "task.*.failed", "task.*.retried", "task.*.started", "task.*.submitted", "task.*.succeeded", "task.*.timed_out",
	}) {
		t.Errorf("TASKS subjects %v", got)
	}
	if len(streams["AUTH"]) != 11 || streams["AUTH"][0] != "auth.*.account.locked" {
		t.Errorf("AUTH subjects %v", streams["AUTH"])
	}
	if got := streams["ANOMALIES"]; !reflect.DeepEqual(got, []string{"anomaly.*.*"}) {
		t.Errorf("ANOMALIES subjects %v", got)
	}
	if got := streams["DLQ"]; !reflect.DeepEqual(got, []string{"dlq.anomaly", "dlq.auth", "dlq.task", "dlq.telemetry", "dlq.unknown"}) {
		t.Errorf("DLQ subjects %v", got)
	}
	wantTopics := []string{"anomalies", "dlq.anomaly", "dlq.auth", "dlq.task", "dlq.telemetry", "dlq.unknown",
		"telemetry.heartbeats", "telemetry.logs", "telemetry.metrics"}
	if !reflect.DeepEqual(p.Topics, wantTopics) {
		t.Errorf("topics %v, want %v", p.Topics, wantTopics)
	}
}

func TestRoutingValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*RoutingConfig)
		errors []string
	}{
		{"defaults", func(*RoutingConfig) {}, nil},
		{"unknown key", func(c *RoutingConfig) { c.Routes["billing"] = c.Routes["auth"] }, []string{`route "billing": not a registered event type or family`}},
		{"type without route", func(c *RoutingConfig) { delete(c.Routes, TypeLog) }, []string{`event type "io.tributary.telemetry.log" has no route`}},
		{"no target", func(c *RoutingConfig) { c.Routes["auth"] = Route{} }, []string{"neither a jetstream nor a kafka target"}},
		{"bad key source", func(c *RoutingConfig) { r := c.Routes["auth"]; r.Key = "user"; c.Routes["auth"] = r }, []string{`key "user" is not one of`}},
		{"bad stream name", func(c *RoutingConfig) {
			c.Routes["auth"] = Route{JetStream: &JetStreamTarget{Stream: "A.B", Subject: "auth.{tenant}.{name}"}}
		},
			[]string{`jetstream.stream "A.B" is not a valid stream name`}},
		{"unknown placeholder", func(c *RoutingConfig) {
			c.Routes["auth"] = Route{JetStream: &JetStreamTarget{Stream: "AUTH", Subject: "auth.{user}"}}
		},
			[]string{"placeholder {user} is not allowed"}},
		{"tenant inside a token", func(c *RoutingConfig) {
			c.Routes["auth"] = Route{JetStream: &JetStreamTarget{Stream: "AUTH", Subject: "auth.t-{tenant}.{name}"}}
		},
			[]string{"{tenant} must be a whole token"}},
		{"empty subject token", func(c *RoutingConfig) {
			c.Routes["auth"] = Route{JetStream: &JetStreamTarget{Stream: "AUTH", Subject: "auth..{name}"}}
		},
			[]string{"has an empty token"}},
		{"wildcard in subject", func(c *RoutingConfig) {
			c.Routes["auth"] = Route{JetStream: &JetStreamTarget{Stream: "AUTH", Subject: "auth.>"}}
		},
			[]string{"wildcard"}},
		{"tenant in topic", func(c *RoutingConfig) { c.Routes[TypeLog] = Route{Kafka: &KafkaTarget{Topic: "logs.{tenant}"}} },
			[]string{"placeholder {tenant} is not allowed"}},
		{"bad topic", func(c *RoutingConfig) { c.Routes[TypeLog] = Route{Kafka: &KafkaTarget{Topic: "logs/all"}} }, []string{`kafka.topic "logs/all" is not a valid topic name`}},
		{"empty topic", func(c *RoutingConfig) { c.Routes[TypeLog] = Route{Kafka: &KafkaTarget{}} }, []string{`kafka.topic "": is empty`}},
		{"bad dead letter", func(c *RoutingConfig) {
			c.DeadLetter = DeadLetterConfig{Stream: "", Subject: "dlq.{tenant}", Topic: ""}
		},
			[]string{"dead_letter.stream", "dead_letter.subject", "dead_letter.topic"}},
		{"overlapping streams", func(c *RoutingConfig) {
			c.Routes[TypeLogout] = Route{JetStream: &JetStreamTarget{Stream: "OTHER", Subject: "auth.{tenant}.login.failed"}}
		}, []string{`subject "auth.*.login.failed" of stream AUTH overlaps "auth.*.login.failed" of stream OTHER`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := DefaultRouting()
			tt.edit(&c)
			err := c.Validate()
			if len(tt.errors) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, s := range tt.errors {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
			if _, nerr := NewRoutingTable(c); nerr == nil {
				t.Error("NewRoutingTable accepted an invalid config")
			}
		})
	}
}

// TestRoutingOverrideFromJSON shows the documented override path: decode a
// config file over DefaultRouting and only the named entries change.
func TestRoutingOverrideFromJSON(t *testing.T) {
	c := DefaultRouting()
	in := `{"routes": {"io.tributary.task.failed": {"kafka": {"topic": "tasks.failed"}, "key": "tenant"}}}`
	if err := json.Unmarshal([]byte(in), &c); err != nil {
		t.Fatal(err)
	}
	rt, err := NewRoutingTable(c)
	if err != nil {
		t.Fatal(err)
	}
	d, err := rt.Resolve(sampleEvent(TypeTaskFailed))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Destination{{Transport: TransportKafka, Topic: "tasks.failed", Key: "acme"}}; !reflect.DeepEqual(d, want) {
		t.Errorf("got %+v, want %+v", d, want)
	}
	if d, _ := rt.Resolve(sampleEvent(TypeTaskStarted)); d[0].Stream != "TASKS" || c.DeadLetter.Stream != "DLQ" {
		t.Errorf("untouched entries changed: %+v %+v", d, c.DeadLetter)
	}
}

func TestDestinationName(t *testing.T) {
	tests := []struct {
		d    Destination
		want string
	}{
		{Destination{Transport: TransportJetStream, Stream: "AUTH", Subject: "auth.t1.logout"}, "auth.t1.logout"},
		{Destination{Transport: TransportKafka, Topic: "telemetry.metrics"}, "telemetry.metrics"},
	}
	for _, tt := range tests {
		if got := tt.d.Name(); got != tt.want {
			t.Errorf("%+v.Name() = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestCheckTenant(t *testing.T) {
	routes, err := NewRoutingTable(DefaultRouting())
	if err != nil {
		t.Fatal(err)
	}
	login, err := NewEvent("//t", "acme", LoginFailed{AuthOrigin: AuthOrigin{User: "u", SourceIP: "192.0.2.1"}, Method: MethodPassword, Reason: ReasonBadCredentials})
	if err != nil {
		t.Fatal(err)
	}
	metric, err := NewEvent("//t", "acme", MetricSample{TelemetrySource: TelemetrySource{Host: "h", Service: "s"}, Name: "cpu", Value: 1})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		env       Envelope
		transport Transport
		origin    string
		mismatch  bool
	}{
		{"its own subject", login, TransportJetStream, "auth.acme.login.failed", false},
		{"another tenant's subject", login, TransportJetStream, "auth.globex.login.failed", true},
		{"a subject too short to say", login, TransportJetStream, "auth", true},
		{"a shared topic names no tenant", metric, TransportKafka, "telemetry.metrics", false},
	}
	for _, tt := range tests {
		err := routes.CheckTenant(tt.env, tt.transport, tt.origin)
		if got := err != nil; got != tt.mismatch {
			t.Errorf("%s: err = %v, want mismatch %v", tt.name, err, tt.mismatch)
			continue
		}
		if err != nil && (!errors.Is(err, ErrTenantMismatch) || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "tenant_mismatch") || !strings.Contains(err.Error(), tt.origin)) {
			t.Errorf("%s: err = %v: want ErrTenantMismatch naming the origin", tt.name, err)
		}
	}
}
