package queries

import (
	"testing"

	"github.com/tributary-io/tributary/tests/testenv"
)

// TestDedupTokenReachesRollups proves on a current engine what the
// dedup design relies on: a batch inserted twice with the same
// insert_deduplication_token (a redelivery after a crash) is stored once
// in the event table and counted once in its rollup.
func TestDedupTokenReachesRollups(t *testing.T) {
	m := testenv.NewModern(t)
	migrateModern(t, m, "dedup")
	// chDB turns async inserts on by default; servers do not, and async
	// inserts deduplicate by other rules.
	for _, s := range []string{"SET async_insert = 0", "SET deduplicate_blocks_in_dependent_materialized_views = 1"} {
		if err := m.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	// Three batches of five rows, each with the token the ingest would give
	// it (topic-partition-first-last offset, and the table).
	batches := []string{
		"INSERT INTO auth_events (event_id, event_type, tenant, user_id, source_ip, outcome, event_time, ingest_time) SETTINGS insert_deduplication_token = 'auth_events/auth.login-0-100-104' SELECT generateUUIDv4(), 'io.tributary.auth.login.failed', 'acme', 'bob', '10.0.0.1', 'failure', toStartOfHour(now()) - 86400 + number, now() FROM numbers(5)",
		"INSERT INTO task_events (event_id, tenant, task_id, task_type, queue, attempt, status, duration_ms, event_time, ingest_time) SETTINGS insert_deduplication_token = 'task_events/task.lifecycle-0-7-11' SELECT generateUUIDv4(), 'acme', toString(number), 'export', 'default', 1, 'failed', 100, toStartOfHour(now()) - 86400 + number, now() FROM numbers(5)",
		"INSERT INTO telemetry_metrics (event_id, tenant, host, service, name, value, event_time, ingest_time) SETTINGS insert_deduplication_token = 'telemetry_metrics/telemetry.metrics-3-50-54' SELECT generateUUIDv4(), 'acme', 'h1', 'api', 'cpu', number, toStartOfHour(now()) - 86400 + number, now() FROM numbers(5)",
	}
	// generateUUIDv4 and now() make the replay's block differ from the
	// first, so only the token can make the server drop it.
	for round := range 2 {
		for _, b := range batches {
			if err := m.Exec(b); err != nil {
				t.Fatalf("round %d: %v", round+1, err)
			}
		}
	}
	for _, c := range []struct{ what, sql string }{
		{"auth_events rows", "SELECT count() FROM auth_events"},
		{"auth_failures_1m count", "SELECT countMerge(events) FROM auth_failures_1m"},
		{"task_events rows", "SELECT count() FROM task_events"},
		{"task_outcomes_1m count", "SELECT countMerge(events) FROM task_outcomes_1m"},
		{"telemetry_metrics rows", "SELECT count() FROM telemetry_metrics"},
		{"metrics_1m count", "SELECT countMerge(points) FROM metrics_1m"},
	} {
		rows, err := m.Query(c.sql)
		if err != nil {
			t.Fatal(err)
		}
		if got := rows[0][0]; got != "5" {
			t.Errorf("%s = %s after the same batch twice, want 5", c.what, got)
		}
	}
}
