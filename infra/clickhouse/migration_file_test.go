package clickhouse

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/tributary-io/tributary/schemas"
)

func TestSplitStatements(t *testing.T) {
	in := `-- requires: server >= 20.1
-- a comment that ends with a semicolon;
CREATE TABLE a
(
    x UInt8 -- inline comment stays
)
ENGINE = Memory;

   -- indented comment;
ALTER TABLE a ADD COLUMN y String;   
SELECT 'no trailing semicolon'
`
	want := []string{
		"CREATE TABLE a\n(\n    x UInt8 -- inline comment stays\n)\nENGINE = Memory",
		"ALTER TABLE a ADD COLUMN y String",
		"SELECT 'no trailing semicolon'",
	}
	got := SplitStatements(in)
	if !slices.Equal(got, want) {
		t.Fatalf("SplitStatements:\n got %q\nwant %q", got, want)
	}
	if got := SplitStatements("-- only comments;\n\n"); len(got) != 0 {
		t.Fatalf("comments only: got %q", got)
	}
	// A CRLF file splits the same way.
	if got := SplitStatements("SELECT 1;\r\nSELECT 2;\r\n"); !slices.Equal(got, []string{"SELECT 1", "SELECT 2"}) {
		t.Fatalf("CRLF: got %q", got)
	}
}

func TestParseMigration(t *testing.T) {
	m, err := ParseMigration("004_dead_letters_ttl.sql", "-- requires: server >= 20.1\n-- why\nALTER TABLE d MODIFY TTL t + INTERVAL 90 DAY;\n")
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != 4 || m.Name != "dead_letters_ttl" || m.ID() != "004_dead_letters_ttl" {
		t.Fatalf("got %+v", m)
	}
	if m.Requires == nil || m.Requires.Major != 20 || m.Requires.Minor != 1 {
		t.Fatalf("requires = %+v", m.Requires)
	}
	if len(m.Statements) != 1 {
		t.Fatalf("statements = %q", m.Statements)
	}

	// The header may follow other header comments and tolerates spacing.
	m, err = ParseMigration("7_x.sql", "-- about\n--requires:server>=21.8.3\nSELECT 1")
	if err != nil || m.Requires == nil || m.Requires.String() != "21.8.3" || m.Version != 7 {
		t.Fatalf("got %+v, %v", m, err)
	}
	m, err = ParseMigration("001_plain.sql", "CREATE TABLE t (x UInt8) ENGINE = Memory;")
	if err != nil || m.Requires != nil {
		t.Fatalf("ungated: %+v, %v", m, err)
	}

	for name, tc := range map[string]struct{ file, body, wantErr string }{
		"bad name":        {"auth.sql", "SELECT 1", "NNN_name.sql"},
		"bad op":          {"001_a.sql", "-- requires: server > 20.1\nSELECT 1", "want"},
		"bad version":     {"001_a.sql", "-- requires: server >= twenty\nSELECT 1", "want"},
		"typo":            {"001_a.sql", "-- requires: clickhouse >= 20.1\nSELECT 1", "want"},
		"after statement": {"001_a.sql", "SELECT 1;\n-- requires: server >= 20.1\nSELECT 2", "before the first statement"},
		"twice":           {"001_a.sql", "-- requires: server >= 20.1\n-- requires: server >= 21.1\nSELECT 1", "more than one"},
		"empty":           {"001_a.sql", "-- nothing\n", "no statements"},
	} {
		if _, err := ParseMigration(tc.file, tc.body); err == nil || !strings.Contains(err.Error(), tc.wantErr) {
			t.Errorf("%s: err = %v, want containing %q", name, err, tc.wantErr)
		}
	}
}

func TestMigrationApplies(t *testing.T) {
	m, err := ParseMigration("004_x.sql", "-- requires: server >= 20.1\nSELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	for v, want := range map[string]bool{"18.16.1": false, "19.17.9": false, "20.1.0": true, "25.3.2.39": true} {
		sv, _ := ParseVersion(v)
		if got := m.Applies(sv); got != want {
			t.Errorf("Applies(%s) = %v, want %v", v, got, want)
		}
	}
	plain := Migration{Version: 1}
	if !plain.Applies(Version{Major: 1}) {
		t.Error("ungated step must apply everywhere")
	}
}

func TestLoadMigrations(t *testing.T) {
	fsys := fstest.MapFS{
		"m/010_b.sql": {Data: []byte("SELECT 2")},
		"m/002_a.sql": {Data: []byte("SELECT 1")},
	}
	got, err := loadMigrations(fsys, "m")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].ID() != "002_a" || got[1].ID() != "010_b" {
		t.Fatalf("order: %+v", got)
	}
	fsys["m/2_c.sql"] = &fstest.MapFile{Data: []byte("SELECT 3")}
	if _, err := loadMigrations(fsys, "m"); err == nil || !strings.Contains(err.Error(), "share version 2") {
		t.Fatalf("duplicate version: err = %v", err)
	}
}

// TestEmbeddedMigrations pins the shipped files: every one parses, base DDL
// avoids features 18.16 lacks, and the TTL step is gated.
func TestEmbeddedMigrations(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range migs {
		ids = append(ids, m.ID())
		if m.Requires != nil {
			continue
		}
		for _, s := range m.Statements {
			for _, banned := range []string{"DateTime64", "LowCardinality", " TTL ", "CODEC(", "JSONExtract", "toStartOfInterval", " OVER "} {
				if strings.Contains(s, banned) {
					t.Errorf("%s: ungated statement uses %q, which 18.16 lacks", m.ID(), banned)
				}
			}
		}
	}
	want := []string{"001_auth_events", "002_telemetry_metrics", "003_dead_letters", "004_dead_letters_ttl",
		"005_task_events", "006_telemetry_logs", "007_telemetry_heartbeats", "008_anomalies",
		"009_auth_failures_1m", "010_task_outcomes_1m", "011_metrics_1m", "012_insert_dedup_window", "013_modern_storage", "014_rollup_dedup_window", "015_event_tables_ttl"}
	if !slices.Equal(ids, want) {
		t.Fatalf("migrations = %v, want %v", ids, want)
	}
	if ttl := migs[3]; ttl.Requires == nil || ttl.Requires.String() != "20.1" {
		t.Fatalf("004 must be gated at 20.1, got %+v", ttl.Requires)
	}
}

// TestEventTablesExpire: every table events land in has a TTL, set by a
// step gated on a server that has TTL (so it is skipped, not failed, on
// 18.16). The tables used to keep every row forever.
func TestEventTablesExpire(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	ttl := map[string]string{} // table → the step that sets its TTL
	for _, m := range migs {
		for _, s := range m.Statements {
			table, rest, ok := strings.Cut(strings.TrimPrefix(s, "ALTER TABLE "), " MODIFY TTL ")
			if !ok || table == s {
				continue
			}
			if m.Requires == nil || !m.Requires.AtLeast(Version{Major: 19, Minor: 6}) {
				t.Errorf("%s: TTL on %s without a gate at >= 19.6 would fail on 18.16", m.ID(), table)
			}
			if !strings.Contains(rest, "INTERVAL") {
				t.Errorf("%s: TTL on %s is not a time interval: %s", m.ID(), table, rest)
			}
			ttl[table] = m.ID()
		}
	}
	tables := map[string]bool{}
	for _, info := range schemas.Types() {
		tables[info.Table] = true
	}
	if len(tables) < 6 {
		t.Fatalf("only %d event tables registered: %v", len(tables), tables)
	}
	for table := range tables {
		if ttl[table] == "" {
			t.Errorf("event table %s has no TTL step", table)
		}
	}
}

func TestMigrationParams(t *testing.T) {
	const body = "-- requires: server >= 20.1\n-- param: keep_days = 30\nALTER TABLE t MODIFY TTL d + INTERVAL {{keep_days}} DAY;\n"
	tests := []struct {
		name, file, content string
		params              map[string]string
		want, wantErr       string
	}{
		{"default", "001_a.sql", body, nil, "ALTER TABLE t MODIFY TTL d + INTERVAL 30 DAY", ""},
		{"override", "001_a.sql", body, map[string]string{"keep_days": "7"}, "ALTER TABLE t MODIFY TTL d + INTERVAL 7 DAY", ""},
		{"not a number", "001_a.sql", body, map[string]string{"keep_days": "7; DROP TABLE t"}, "", `parameter keep_days: "7; DROP TABLE t" is not a positive integer`},
		{"zero", "001_a.sql", body, map[string]string{"keep_days": "0"}, "", "is not a positive integer"},
		{"placeholder without header", "001_a.sql", "ALTER TABLE t MODIFY TTL d + INTERVAL {{days}} DAY;\n", nil, "", `{{days}} has no "-- param: days = default" header`},
		{"bad header", "001_a.sql", "-- param: days = thirty\nSELECT 1;\n", nil, "", "want \"-- param: name = positive integer\""},
		{"header after a statement", "001_a.sql", "SELECT 1;\n-- param: days = 3\nSELECT {{days}};\n", nil, "", "before the first statement"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := ParseMigration(tt.file, tt.content)
			var got []string
			if err == nil {
				got, err = m.Render(tt.params)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0] != tt.want {
				t.Fatalf("rendered %q, want %q", got, tt.want)
			}
		})
	}
}

// The retention step declares its periods, and an unknown parameter name
// is refused before anything runs.
func TestRetentionParams(t *testing.T) {
	migs, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	if err := checkParams(migs, map[string]string{"event_retention_days": "7", "anomaly_retention_days": "90"}); err != nil {
		t.Fatal(err)
	}
	if err := checkParams(migs, map[string]string{"event_retention": "7"}); err == nil || !strings.Contains(err.Error(), `"event_retention"`) {
		t.Fatalf("unknown parameter: err = %v", err)
	}
}
