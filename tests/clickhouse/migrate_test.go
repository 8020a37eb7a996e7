package clickhouse_test

import (
	"slices"
	"testing"

	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
)

// ttlStep is the example gated step; it needs TTL (server >= 20.1).
const ttlStep = "004_dead_letters_ttl"

func TestMigrateFreshThenNoop(t *testing.T) {
	db := newDB(t)
	ctx := t.Context()

	applied, err := chinfra.Migrate(ctx, db.Conn, testLogger(t))
	if err != nil {
		t.Fatalf("first migrate: %v", err)
	}
	want := []string{"001_auth_events", "002_telemetry_metrics", "003_dead_letters"}
	if db.Version.AtLeast(chinfra.Version{Major: 20, Minor: 1}) {
		want = append(want, ttlStep)
	}
	want = append(want, "005_task_events", "006_telemetry_logs", "007_telemetry_heartbeats", "008_anomalies",
		"009_auth_failures_1m", "010_task_outcomes_1m", "011_metrics_1m")
	if db.Version.AtLeast(chinfra.Version{Major: 22, Minor: 8}) {
		want = append(want, "012_insert_dedup_window")
	}
	if db.Version.AtLeast(chinfra.Version{Major: 20, Minor: 1}) {
		want = append(want, "013_event_tables_ttl")
	}
	if !slices.Equal(applied, want) {
		t.Fatalf("first migrate applied %v, want %v (server %s)", applied, want, db.Version)
	}

	again, err := chinfra.Migrate(ctx, db.Conn, testLogger(t))
	if err != nil {
		t.Fatalf("second migrate: %v", err)
	}
	if len(again) != 0 {
		t.Fatalf("second migrate applied %v, want nothing", again)
	}
	if n := queryUint64(t, db.Conn, "SELECT count() FROM schema_migrations"); n != uint64(len(want)) {
		t.Fatalf("schema_migrations holds %d rows, want %d", n, len(want))
	}
	for _, table := range []string{"auth_events", "telemetry_metrics", "dead_letters", "task_events",
		"telemetry_logs", "telemetry_heartbeats", "anomalies", "schema_migrations"} {
		n := queryUint64(t, db.Conn, "SELECT count() FROM system.tables WHERE database = ? AND name = ?", db.Config.Database, table)
		if n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	var serverVersion string
	if err := db.Conn.QueryRow(ctx, "SELECT any(server_version) FROM schema_migrations").Scan(&serverVersion); err != nil || serverVersion != db.Version.String() {
		t.Errorf("recorded server_version = %q, %v; want %q", serverVersion, err, db.Version)
	}
}

// TestMigrateGatedStep checks the "-- requires:" gate against the real
// server: on 18.16 (CI) the TTL step is skipped and recorded nowhere, so it
// would apply after an upgrade; on >= 20.1 it is applied and recorded.
func TestMigrateGatedStep(t *testing.T) {
	db := migrated(t)
	recorded := queryUint64(t, db.Conn, "SELECT count() FROM schema_migrations WHERE version = 4")
	migs, err := chinfra.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var step chinfra.Migration
	for _, m := range migs {
		if m.ID() == ttlStep {
			step = m
		}
	}
	if step.Requires == nil {
		t.Fatalf("%s is not gated", ttlStep)
	}
	if step.Applies(db.Version) {
		t.Logf("server %s >= %s: %s must be applied", db.Version, step.Requires, ttlStep)
		if recorded != 1 {
			t.Fatalf("%s recorded %d times, want 1", ttlStep, recorded)
		}
		return
	}
	t.Logf("server %s < %s: %s must be skipped", db.Version, step.Requires, ttlStep)
	if recorded != 0 {
		t.Fatalf("skipped step %s is recorded in schema_migrations", ttlStep)
	}
	// Still skipped, still unrecorded on a second run.
	again, err := chinfra.Migrate(t.Context(), db.Conn, testLogger(t))
	if err != nil || slices.Contains(again, ttlStep) {
		t.Fatalf("second migrate: %v, %v", again, err)
	}
}
