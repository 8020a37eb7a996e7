package queries

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/clickhouse"
	lib "github.com/tributary-io/tributary/processors/queries"
	"github.com/tributary-io/tributary/tests/testenv"
)

// firstModernStorageStep is the migration from which steps only current
// servers take; the benchmark compares the schema without and with them.
const firstModernStorageStep = 13

// BenchmarkStorageSteps measures what migration 013 (LowCardinality,
// codecs, the source_ip skip index) changes on a current engine: bytes on
// disk for the same 1M rows per event table and the library's query times.
// make bench-storage runs it once.
func BenchmarkStorageSteps(b *testing.B) {
	m := testenv.NewModern(b)
	v, err := m.Version()
	if err != nil {
		b.Fatal(err)
	}
	const rows = 1_000_000
	start := time.Now().UTC().Truncate(24 * time.Hour).Add(-72 * time.Hour)
	type result struct {
		bytes map[string]int64
		query map[string]time.Duration
	}
	run := func(db string, modern bool) result {
		applyUpTo(b, m, db, modern)
		for _, ins := range syntheticRows(rows, start) {
			if err := m.Exec(ins); err != nil {
				b.Fatalf("%s: %v", db, err)
			}
		}
		for _, t := range []string{"auth_events", "task_events", "telemetry_metrics", "telemetry_logs"} {
			if err := m.Exec("OPTIMIZE TABLE " + t + " FINAL"); err != nil {
				b.Fatal(err)
			}
		}
		r := result{bytes: map[string]int64{}, query: map[string]time.Duration{}}
		parts, err := m.Query("SELECT table, sum(bytes_on_disk) FROM system.parts WHERE active AND database = '" + db + "' GROUP BY table")
		if err != nil {
			b.Fatal(err)
		}
		for _, p := range parts {
			n, _ := strconv.ParseInt(p[1], 10, 64)
			r.bytes[p[0]] = n
		}
		qs, err := lib.All()
		if err != nil {
			b.Fatal(err)
		}
		vals := map[string]string{"tenant": "t0", "since": start.Add(6 * time.Hour).Format(time.RFC3339), "until": start.Add(7 * time.Hour).Format(time.RFC3339)}
		for _, q := range qs {
			sql, err := q.Render(vals, time.Now())
			if err != nil {
				b.Fatal(err)
			}
			best := time.Duration(1 << 62)
			for range 3 {
				start := time.Now()
				if _, err := m.Query(sql); err != nil {
					b.Fatalf("%s on %s: %v", q.Name, db, err)
				}
				best = min(best, time.Since(start))
			}
			r.query[q.Name] = best
		}
		return r
	}
	var base, modern result
	for b.Loop() {
		base = run(fmt.Sprintf("base_%d", time.Now().UnixNano()), false)
		modern = run(fmt.Sprintf("modern_%d", time.Now().UnixNano()), true)
	}
	fmt.Printf("\nClickHouse %s (chDB), %d rows per event table, after OPTIMIZE FINAL\n", v, rows)
	fmt.Printf("%-22s %12s %12s %7s\n", "table", "base bytes", "013 bytes", "ratio")
	var tb, tm int64
	for _, t := range slices.Sorted(mapKeys(base.bytes)) {
		if base.bytes[t] == 0 {
			continue
		}
		tb, tm = tb+base.bytes[t], tm+modern.bytes[t]
		fmt.Printf("%-22s %12d %12d %6.2fx\n", t, base.bytes[t], modern.bytes[t], float64(base.bytes[t])/float64(max(modern.bytes[t], 1)))
	}
	fmt.Printf("%-22s %12d %12d %6.2fx\n", "total", tb, tm, float64(tb)/float64(max(tm, 1)))
	fmt.Printf("\n%-24s %10s %10s\n", "query (best of 3)", "base ms", "013 ms")
	for _, q := range slices.Sorted(mapKeys(base.query)) {
		fmt.Printf("%-24s %10.1f %10.1f\n", q, ms(base.query[q]), ms(modern.query[q]))
	}
	b.ReportMetric(float64(tb)/float64(max(tm, 1)), "bytes-ratio")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func mapKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// applyUpTo migrates db with the base steps, and the modern storage steps
// too when modern is set.
func applyUpTo(b *testing.B, m *testenv.Modern, db string, modern bool) {
	b.Helper()
	migs, err := clickhouse.Migrations()
	if err != nil {
		b.Fatal(err)
	}
	for _, stmt := range []string{"CREATE DATABASE IF NOT EXISTS " + db, "USE " + db} {
		if err := m.Exec(stmt); err != nil {
			b.Fatal(err)
		}
	}
	for _, mg := range migs {
		if !modern && mg.Version >= firstModernStorageStep {
			continue
		}
		stmts, err := mg.Render(nil)
		if err != nil {
			b.Fatal(err)
		}
		for _, stmt := range stmts {
			if err := m.Exec(stmt); err != nil {
				b.Fatalf("%s: %v", mg.ID(), err)
			}
		}
	}
}

// syntheticRows fills the event tables with n rows each of plausible shape:
// 5 tenants, 200 hosts, 5,000 users, 65,536 source addresses, 20 rows a
// second for about 14 hours from start (recent: current servers expire
// older rows, migration 015).
func syntheticRows(n int, start time.Time) []string {
	t0 := fmt.Sprintf("toDateTime(%d, 'UTC') + intDiv(number, 20)", start.Unix())
	return []string{
		fmt.Sprintf(`INSERT INTO telemetry_metrics (event_id, tenant, host, service, name, value, unit, event_time, ingest_time)
SELECT generateUUIDv4(), concat('t', toString(number %% 5)), concat('host-', toString(number %% 200)),
       ['api', 'db', 'cache'][number %% 3 + 1], ['cpu', 'mem', 'latency', 'rps'][intDiv(number, 3) %% 4 + 1],
       round(50 + 20 * sin(number / 5000) + (cityHash64(number) %% 1000) / 100, 2), '%%', %[2]s, %[2]s + 1
FROM numbers(%[1]d)`, n, t0),
		fmt.Sprintf(`INSERT INTO auth_events (event_id, event_type, tenant, source, subject, user_id, source_ip, user_agent, country, method, outcome, failure_reason, resource, event_time, ingest_time)
SELECT generateUUIDv4(), ['io.tributary.auth.login.succeeded', 'io.tributary.auth.login.failed', 'io.tributary.auth.mfa.denied'][cityHash64(number) %% 3 + 1],
       concat('t', toString(number %% 5)), 'auth-svc', concat('user-', toString(number %% 5000)), concat('user-', toString(number %% 5000)),
       IPv4NumToString(toUInt32(167772160 + cityHash64(number, 1) %% 65536)), 'Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0',
       ['DE', 'FR', 'US', 'AU', 'BR'][number %% 5 + 1], 'password', 'ok', '', '/app', %[2]s, %[2]s + 1
FROM numbers(%[1]d)`, n, t0),
		fmt.Sprintf(`INSERT INTO task_events (event_id, event_type, tenant, source, task_id, task_type, queue, attempt, status, worker, duration_ms, event_time, ingest_time)
SELECT generateUUIDv4(), 'io.tributary.task.finished', concat('t', toString(number %% 5)), 'scheduler', concat('task-', toString(number)),
       ['export', 'email', 'report', 'sync'][number %% 4 + 1], 'default', 1, ['succeeded', 'failed'][toUInt8(cityHash64(number) %% 50 = 0) + 1],
       concat('worker-', toString(number %% 20)), 500 + cityHash64(number, 2) %% 1000, %[2]s, %[2]s + 1
FROM numbers(%[1]d)`, n, t0),
		fmt.Sprintf(`INSERT INTO telemetry_logs (event_id, tenant, host, service, severity, body, event_time, ingest_time)
SELECT generateUUIDv4(), concat('t', toString(number %% 5)), concat('host-', toString(number %% 200)), ['api', 'db', 'cache'][number %% 3 + 1],
       ['info', 'info', 'info', 'warn', 'error'][number %% 5 + 1],
       concat('request ', toString(cityHash64(number) %% 100000), ' served in ', toString(number %% 700), ' ms for user-', toString(number %% 5000)),
       %[2]s, %[2]s + 1
FROM numbers(%[1]d)`, n, t0),
	}
}
