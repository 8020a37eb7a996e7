package clickhouse

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// tableRefRe finds where a statement names a table.
var tableRefRe = regexp.MustCompile(`(?:CREATE TABLE IF NOT EXISTS |CREATE MATERIALIZED VIEW IF NOT EXISTS |ALTER TABLE | ON CLUSTER c1 TO | ON CLUSTER c1 AS |\nFROM )([\w.]+)`)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// golden compares got with testdata/name, or writes it with -update.
func golden(t *testing.T, name string, stmts []string) {
	t.Helper()
	got := strings.Join(stmts, ";\n\n") + ";\n"
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to write it)", err)
	}
	if got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range min(len(gl), len(wl)) {
			if gl[i] != wl[i] {
				t.Fatalf("%s differs at line %d:\n got %q\nwant %q", path, i+1, gl[i], wl[i])
			}
		}
		t.Fatalf("%s differs in length: got %d lines, want %d", path, len(gl), len(wl))
	}
}

// The single-node form is what every server ran before the cluster form
// existed: testdata/migrations.single.sql was rendered by that code, and
// it is never rewritten by -update.
func TestRenderedSingleNodeUnchanged(t *testing.T) {
	stmts, err := Rendered(MigrateConfig{})
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		t.Log("-update does not rewrite the single-node golden file")
	}
	saved := *update
	*update = false
	defer func() { *update = saved }()
	golden(t, "migrations.single.sql", stmts)
}

func TestRenderedClusterGolden(t *testing.T) {
	stmts, err := Rendered(MigrateConfig{Cluster: "tributary", Database: "tributary"})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "migrations.cluster.sql", stmts)
}

// TestRenderClusterEveryMigration: each shipped step, in cluster form,
// becomes the statements listed (their first lines), and every statement
// keeps the invariants of the cluster form. A new migration fails here
// until its cluster form is listed.
func TestRenderClusterEveryMigration(t *testing.T) {
	const on = " ON CLUSTER c1"
	table := func(name string) []string {
		return []string{
			"CREATE TABLE IF NOT EXISTS db1." + name + "_local" + on,
			"CREATE TABLE IF NOT EXISTS db1." + name + on + " AS db1." + name + "_local",
		}
	}
	alters := func(rest string, tables ...string) []string {
		var out []string
		for _, tb := range tables {
			out = append(out, "ALTER TABLE db1."+tb+"_local"+on+rest)
		}
		return out
	}
	events := []string{"auth_events", "telemetry_metrics", "task_events", "telemetry_logs", "telemetry_heartbeats"}
	tests := []struct {
		id   string
		want []string // first line of each statement
		has  []string // fragments some statement must contain
	}{
		{"001_auth_events", table("auth_events"), []string{
			"ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db1/auth_events_local', '{replica}', ingest_time)",
			"ENGINE = Distributed(c1, db1, auth_events_local, cityHash64(toString(event_id)))"}},
		{"002_telemetry_metrics", table("telemetry_metrics"), []string{
			"ReplicatedReplacingMergeTree('/clickhouse/tables/{shard}/db1/telemetry_metrics_local', '{replica}', ingest_time)",
			"Distributed(c1, db1, telemetry_metrics_local, cityHash64(toString(event_id)))"}},
		{"003_dead_letters", table("dead_letters"), []string{
			"ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/db1/dead_letters_local', '{replica}')\n",
			"Distributed(c1, db1, dead_letters_local, cityHash64(toString(event_id)))"}},
		{"004_dead_letters_ttl", alters(" MODIFY TTL event_time + INTERVAL 90 DAY", "dead_letters"), nil},
		{"005_task_events", table("task_events"), []string{"Distributed(c1, db1, task_events_local, cityHash64(toString(event_id)))"}},
		{"006_telemetry_logs", table("telemetry_logs"), []string{"Distributed(c1, db1, telemetry_logs_local, cityHash64(toString(event_id)))"}},
		{"007_telemetry_heartbeats", table("telemetry_heartbeats"), []string{"Distributed(c1, db1, telemetry_heartbeats_local, cityHash64(toString(event_id)))"}},
		{"008_anomalies", table("anomalies"), []string{"Distributed(c1, db1, anomalies_local, cityHash64(toString(event_id)))"}},
		{"009_auth_failures_1m", append(table("auth_failures_1m"),
			"CREATE MATERIALIZED VIEW IF NOT EXISTS db1.auth_failures_1m_mv"+on+" TO db1.auth_failures_1m_local AS"), []string{
			"ENGINE = ReplicatedAggregatingMergeTree('/clickhouse/tables/{shard}/db1/auth_failures_1m_local', '{replica}')\n",
			"Distributed(c1, db1, auth_failures_1m_local, cityHash64(tenant, user_id, source_ip, event_type, minute))",
			"\nFROM db1.auth_events_local\nWHERE outcome = 'failure'"}},
		{"010_task_outcomes_1m", append(table("task_outcomes_1m"),
			"CREATE MATERIALIZED VIEW IF NOT EXISTS db1.task_outcomes_1m_mv"+on+" TO db1.task_outcomes_1m_local AS"), []string{
			"\nFROM db1.task_events_local\n"}},
		{"011_metrics_1m", append(table("metrics_1m"),
			"CREATE MATERIALIZED VIEW IF NOT EXISTS db1.metrics_1m_mv"+on+" TO db1.metrics_1m_local AS"), []string{
			"\nFROM db1.telemetry_metrics_local\n"}},
		{"012_insert_dedup_window", alters(" MODIFY SETTING replicated_deduplication_window = 1000",
			"auth_events", "telemetry_metrics", "task_events", "telemetry_logs", "telemetry_heartbeats", "anomalies"), nil},
		{"013_modern_storage", []string{
			"ALTER TABLE db1.auth_events_local" + on, "ALTER TABLE db1.auth_events" + on,
			"ALTER TABLE db1.auth_events_local" + on + " ADD INDEX IF NOT EXISTS source_ip_bloom source_ip TYPE bloom_filter(0.01) GRANULARITY 4",
			"ALTER TABLE db1.task_events_local" + on, "ALTER TABLE db1.task_events" + on,
			"ALTER TABLE db1.telemetry_metrics_local" + on, "ALTER TABLE db1.telemetry_metrics" + on,
			"ALTER TABLE db1.telemetry_logs_local" + on, "ALTER TABLE db1.telemetry_logs" + on,
			"ALTER TABLE db1.telemetry_heartbeats_local" + on, "ALTER TABLE db1.telemetry_heartbeats" + on,
			"ALTER TABLE db1.anomalies_local" + on, "ALTER TABLE db1.anomalies" + on,
			"ALTER TABLE db1.dead_letters_local" + on, "ALTER TABLE db1.dead_letters" + on,
		}, []string{
			"    MODIFY COLUMN value Float64 CODEC(Gorilla, ZSTD(1)),", // on the local table
			"    MODIFY COLUMN value Float64,\n",                       // on the Distributed one
			"    MODIFY COLUMN error_message String,\n"}},              // codec dropped on the Distributed one
		{"014_rollup_dedup_window", alters(" MODIFY SETTING replicated_deduplication_window = 1000",
			"auth_failures_1m", "task_outcomes_1m", "metrics_1m"), nil},
		{"015_event_tables_ttl", append(alters(" MODIFY TTL event_time + INTERVAL 7 DAY", events...),
			"ALTER TABLE db1.anomalies_local"+on+" MODIFY TTL window_start + INTERVAL 180 DAY"), nil},
	}
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if len(migs) != len(tests) {
		t.Fatalf("%d migrations, %d listed here: list the cluster form of the new one", len(migs), len(tests))
	}
	target := ClusterTarget{Cluster: "c1", Database: "db1"}
	for i, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			m := migs[i]
			if m.ID() != tt.id {
				t.Fatalf("migration %d is %s, listed %s", i, m.ID(), tt.id)
			}
			got, err := m.RenderCluster(map[string]string{"event_retention_days": "7"}, target)
			if err != nil {
				t.Fatal(err)
			}
			var heads []string
			for _, s := range got {
				head, _, _ := strings.Cut(s, "\n")
				heads = append(heads, head)
				checkClusterInvariants(t, s)
			}
			if strings.Join(heads, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("statements:\n got %q\nwant %q", heads, tt.want)
			}
			all := strings.Join(got, "\n;\n")
			for _, frag := range tt.has {
				if !strings.Contains(all, frag) {
					t.Errorf("no statement contains %q", frag)
				}
			}
			// The single-node form of the same step is untouched.
			single, err := m.Render(map[string]string{"event_retention_days": "7"})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range single {
				if strings.Contains(s, "ON CLUSTER") || strings.Contains(s, "_local") || strings.Contains(s, "Replicated") {
					t.Errorf("single-node form carries the cluster form: %q", s)
				}
			}
		})
	}
}

// checkClusterInvariants: every statement runs on the whole cluster, names
// its tables with the database, and never reaches a table other than
// through its _local (storage) or Distributed (reads, inserts) name.
func checkClusterInvariants(t *testing.T, s string) {
	t.Helper()
	head, _, _ := strings.Cut(s, "\n")
	if !strings.Contains(head, " ON CLUSTER c1") {
		t.Errorf("not ON CLUSTER: %q", head)
	}
	refs := tableRefRe.FindAllStringSubmatch(s, -1)
	if len(refs) == 0 {
		t.Errorf("no table named: %q", head)
	}
	for _, r := range refs {
		if !strings.HasPrefix(r[1], "db1.") {
			t.Errorf("%q names a table without its database: %q", r[0], head)
		}
	}
	if strings.Contains(s, "MergeTree(") && !strings.Contains(s, "ENGINE = Replicated") {
		t.Errorf("MergeTree that is not replicated: %q", head)
	}
	if strings.Contains(s, "non_replicated_deduplication_window") {
		t.Errorf("non-replicated setting on a replicated table: %q", head)
	}
	if strings.HasPrefix(s, "CREATE MATERIALIZED VIEW") && !strings.Contains(s, "_local AS\n") {
		t.Errorf("view does not write to a _local table: %q", head)
	}
}

func TestRenderClusterRefuses(t *testing.T) {
	target := ClusterTarget{Cluster: "c1", Database: "db1"}
	for name, tc := range map[string]struct{ body, wantErr string }{
		"unknown statement":  {"SELECT 1;\n", "unrecognised statement \"SELECT 1\""},
		"create without ine": {"CREATE TABLE t\n(x UInt8)\nENGINE = MergeTree()\nORDER BY x;\n", "unrecognised statement"},
		"engine not mergetree": {"CREATE TABLE IF NOT EXISTS t\n(x UInt8)\nENGINE = Memory;\n",
			"want one line \"ENGINE = …MergeTree(args)\", found 0"},
		"no key to shard by": {"CREATE TABLE IF NOT EXISTS t\n(\n    x UInt8\n)\nENGINE = MergeTree()\nPRIMARY KEY x;\n",
			"no event_id column and no ORDER BY"},
		"view with a join": {"CREATE MATERIALIZED VIEW IF NOT EXISTS v TO t AS\nSELECT a\nFROM x\nANY LEFT JOIN y USING a;\n",
			"no JOIN"},
		"view with a subquery": {"CREATE MATERIALIZED VIEW IF NOT EXISTS v TO t AS\nSELECT a FROM (SELECT a FROM x);\n",
			"one line \"FROM table\""},
		"view without TO": {"CREATE MATERIALIZED VIEW IF NOT EXISTS v ENGINE = Memory AS\nSELECT a\nFROM x;\n",
			"unrecognised statement"},
	} {
		t.Run(name, func(t *testing.T) {
			m, err := ParseMigration("001_x.sql", tc.body)
			if err != nil {
				t.Fatal(err)
			}
			_, err = m.RenderCluster(nil, target)
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), "migration 001_x statement 1/1: cluster form") {
				t.Errorf("error does not say where: %v", err)
			}
		})
	}
}

func TestMigrateConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     MigrateConfig
		wantErr []string
	}{
		{"single node", MigrateConfig{}, nil},
		{"single node ignores database", MigrateConfig{Database: "not valid"}, nil},
		{"cluster", MigrateConfig{Cluster: "tributary", Database: "tributary"}, nil},
		{"cluster without database", MigrateConfig{Cluster: "tributary"}, []string{`Database: "" must match`, `required with Cluster "tributary"`}},
		{"both wrong", MigrateConfig{Cluster: "a-b", Database: "x;y"}, []string{`Cluster: "a-b"`, `Database: "x;y"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
		})
	}
	if _, err := Rendered(MigrateConfig{Cluster: "c"}); err == nil {
		t.Error("Rendered accepted a cluster without a database")
	}
	if _, err := (Migration{Version: 1, Name: "x", Statements: []string{"SELECT 1"}}).RenderCluster(nil, ClusterTarget{Cluster: "c"}); err == nil ||
		!strings.Contains(err.Error(), "Database") {
		t.Errorf("RenderCluster without a database: err = %v", err)
	}
}
