package schemas_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/schemas"
)

func TestSources(t *testing.T) {
	override := func(typ string, r schemas.Route) schemas.RoutingConfig {
		c := schemas.DefaultRouting()
		c.Routes[typ] = r
		return c
	}
	tests := []struct {
		name    string
		routing schemas.RoutingConfig
		want    []string // "transport filter family tables"
		wantErr string
	}{
		{"default routing", schemas.DefaultRouting(), []string{
			"jetstream auth.> auth [auth_events]",
			"jetstream task.> task [task_events]",
			"kafka anomalies anomaly [anomalies]",
			"kafka telemetry.heartbeats telemetry [telemetry_heartbeats]",
			"kafka telemetry.logs telemetry [telemetry_logs]",
			"kafka telemetry.metrics telemetry [telemetry_metrics]",
		}, ""},
		{"a type routed elsewhere is read from there", override(schemas.TypeLoginFailed,
			schemas.Route{JetStream: &schemas.JetStreamTarget{Stream: "AUTH", Subject: "secure.{tenant}.{name}"}}), []string{
			"jetstream auth.> auth [auth_events]",
			"jetstream secure.> auth [auth_events]",
			"jetstream task.> task [task_events]",
			"kafka anomalies anomaly [anomalies]",
			"kafka telemetry.heartbeats telemetry [telemetry_heartbeats]",
			"kafka telemetry.logs telemetry [telemetry_logs]",
			"kafka telemetry.metrics telemetry [telemetry_metrics]",
		}, ""},
		{"a family moved to Kafka", override(string(schemas.FamilyTask),
			schemas.Route{Kafka: &schemas.KafkaTarget{Topic: "tasks"}}), nil, ""},
		{"overlapping filters are refused", override(schemas.TypeLoginFailed,
			schemas.Route{JetStream: &schemas.JetStreamTarget{Stream: "AUTH", Subject: "auth.special.{tenant}"}}), nil, "overlap"},
		{"two families on one topic are refused", override(schemas.TypeLog,
			schemas.Route{Kafka: &schemas.KafkaTarget{Topic: "anomalies"}}), nil, "families"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rt, err := schemas.NewRoutingTable(tt.routing)
			if err != nil {
				t.Fatal(err)
			}
			srcs, err := rt.Sources(schemas.Types())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range srcs {
				got = append(got, string(s.Transport)+" "+s.Filter+" "+string(s.Family)+" ["+strings.Join(s.Tables, " ")+"]")
			}
			if tt.want != nil && !slices.Equal(got, tt.want) {
				t.Errorf("sources\n got %v\nwant %v", got, tt.want)
			}
			// Every destination an event of any type is published to is
			// read by one source.
			for _, info := range schemas.Types() {
				r, _ := rt.RouteFor(info.Type)
				read := 0
				for _, s := range srcs {
					if slices.Contains(s.Types, info.Type) {
						read++
					}
				}
				if read != 1 || (r.JetStream == nil && r.Kafka == nil) {
					t.Errorf("%s is read by %d sources", info.Short(), read)
				}
			}
		})
	}
}

func TestSubjectFilter(t *testing.T) {
	for tmpl, want := range map[string]string{
		"auth.{tenant}.{name}":  "auth.>",
		"auth.special.{tenant}": "auth.special.>",
		"fixed.subject":         "fixed.subject",
		"{tenant}.auth":         ">",
	} {
		if got := schemas.SubjectFilter(tmpl); got != want {
			t.Errorf("SubjectFilter(%q) = %q, want %q", tmpl, got, want)
		}
	}
}

// TestFamiliesDeclared: every type has a table and a route, every family
// is declared with types, and the tables are the ones ingest knows.
func TestFamiliesDeclared(t *testing.T) {
	rt := schemas.DefaultRoutingTable()
	for _, f := range schemas.Declared() {
		if len(f.Types) == 0 {
			t.Errorf("family %s declares no type", f.Family)
		}
		for _, info := range f.Types {
			if info.Table == "" {
				t.Errorf("%s has no table", info.Short())
			}
			if _, err := rt.RouteFor(info.Type); err != nil {
				t.Errorf("%s has no route: %v", info.Short(), err)
			}
		}
	}
	if got := schemas.Tables(); !slices.Equal(got, []string{"anomalies", "auth_events", "task_events",
		"telemetry_heartbeats", "telemetry_logs", "telemetry_metrics"}) {
		t.Errorf("tables %v", got)
	}
}
