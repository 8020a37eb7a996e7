// Package queries tests every query of the analysts' library
// (processors/queries) against a real ClickHouse: fixture data holding the
// anomaly and data that must not match, one database per query.
package queries

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/clickhouse"
	lib "github.com/tributary-io/tributary/processors/queries"
	"github.com/tributary-io/tributary/tests/testenv"
)

// queryCase is one library query, the fixture that holds its anomaly and
// the entities it must find there.
type queryCase struct {
	query   string
	fixture func(*fx)
	params  map[string]string
	want    []string // entity_type:entity_id
}

// queryCases covers every query of the library.
func queryCases() []queryCase {
	return []queryCase{
		{"brute_force_user", authFixture, nil, []string{"user:u0", "user:u1", "user:victim"}},
		{"brute_force_ip", authFixture, nil, []string{"ip:203.0.113.1"}},
		{"credential_stuffing", authFixture, nil, []string{"ip:203.0.113.2"}},
		{"mfa_fatigue", authFixture, nil, []string{"user:carol"}},
		{"permission_denied_burst", authFixture, nil, []string{"user:mallory"}},
		{"impossible_travel", authFixture, nil, []string{"user:bob"}},
		{"new_country", authFixture, nil, []string{"user:seasoned"}},
		{"task_failure_spike", taskFixture, nil, []string{"task:export/default"}},
		{"task_latency_regression", taskFixture, map[string]string{"lookback_s": "3600"}, []string{"task:export/default"}},
		{"stuck_task", taskFixture, nil, []string{"task_id:s1", "task_id:s4"}},
		{"retry_storm", taskFixture, nil, []string{"task:export/default"}},
		{"metric_spike", telemetryFixture, nil, []string{"series:h1/cpu"}},
		{"metric_drop", telemetryFixture, nil, []string{"series:h2/cpu"}},
		{"silent_host", telemetryFixture, nil, []string{"host:h2"}},
		{"error_log_burst", telemetryFixture, nil, []string{"service:h1/api"}},
		{"anomalies", anomalyFixture, nil, []string{"series:h1/cpu", "user:victim"}},
	}
}

// values are the parameters a case's query is rendered with.
func (c queryCase) values() map[string]string {
	vals := map[string]string{"tenant": "acme", "since": T.Format(time.RFC3339), "until": T.Add(time.Hour).Format(time.RFC3339)}
	for k, v := range c.params {
		vals[k] = v
	}
	return vals
}

func TestQueries(t *testing.T) {
	env := testenv.Get(t)
	tests := queryCases()
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			conn := newDB(ctx, t, env.ClickHouseAddr)
			f := &fx{}
			tt.fixture(f)
			f.insert(ctx, t, conn)
			q, err := lib.Get(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			sql, err := q.Render(tt.values(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			cols, rows, err := lib.Run(ctx, conn, sql)
			if err != nil {
				t.Fatalf("%v\n%s", err, sql)
			}
			if !slices.Equal(cols[:5], []string{"entity_type", "entity_id", "window_start", "window_end", "score"}) {
				t.Fatalf("columns %v", cols)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r[0]+":"+r[1])
			}
			slices.Sort(got)
			got = slices.Compact(got)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("found %v, want %v\nrows: %v", got, tt.want, rows)
			}
		})
	}
}

// TestQueriesNegativeFloat runs metric_drop with a negative threshold on a
// real ClickHouse. Rendered as "z <= --5" the rest of the line was a comment
// and the query a syntax error; rendered safely, "z <= -(-5)" keeps every
// bucket up to five sigmas above the median, so all three hosts match.
func TestQueriesNegativeFloat(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, sql := fixtureQuery(ctx, t, telemetryFixture, "metric_drop", map[string]string{"min_z": "-5"})
	cols, rows, err := lib.Run(ctx, conn, sql)
	if err != nil {
		t.Fatalf("%v\n%s", err, sql)
	}
	zi := slices.Index(cols, "z_score")
	if zi < 0 {
		t.Fatalf("no z_score column in %v", cols)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r[0]+":"+r[1])
		if z, err := strconv.ParseFloat(r[zi], 64); err != nil || z > 5 {
			t.Errorf("row %v: z_score %q is not <= 5 (%v)", r, r[zi], err)
		}
	}
	slices.Sort(got)
	got = slices.Compact(got)
	if want := []string{"series:h1/cpu", "series:h2/cpu", "series:h3/cpu"}; !slices.Equal(got, want) {
		t.Fatalf("found %v, want %v", got, want)
	}
}

// fixtureQuery loads fixture into a fresh, migrated database and renders
// the named query over the fixture's hour (tenant acme, T to T+1h), with
// params on top.
func fixtureQuery(ctx context.Context, t *testing.T, fixture func(*fx), name string, params map[string]string) (driver.Conn, string) {
	t.Helper()
	conn := newDB(ctx, t, testenv.Get(t).ClickHouseAddr)
	f := &fx{}
	fixture(f)
	f.insert(ctx, t, conn)
	q, err := lib.Get(name)
	if err != nil {
		t.Fatal(err)
	}
	vals := map[string]string{"tenant": "acme", "since": T.Format(time.RFC3339), "until": T.Add(time.Hour).Format(time.RFC3339)}
	for k, v := range params {
		vals[k] = v
	}
	sql, err := q.Render(vals, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return conn, sql
}

// newDB creates a fresh, migrated database and drops it at cleanup.
func newDB(ctx context.Context, t *testing.T, addr string) driver.Conn {
	t.Helper()
	name := fmt.Sprintf("q_%s_%d", strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, t.Name()), time.Now().UnixNano())
	cfg := clickhouse.Config{Addr: addr, Database: name}
	conn, err := clickhouse.Open(ctx, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = conn.Exec(context.Background(), "DROP DATABASE IF EXISTS `"+name+"`")
		_ = conn.Close()
	})
	if _, err := clickhouse.Migrate(ctx, conn, nil); err != nil {
		t.Fatal(err)
	}
	return conn
}

// A read-only client (tributary-query) refuses a database that does not
// exist, naming it, and creates nothing: a typo used to create it.
func TestReadOnlyOpenCreatesNothing(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	name := fmt.Sprintf("typo_%d", time.Now().UnixNano())
	_, err := clickhouse.Open(ctx, clickhouse.Config{Addr: env.ClickHouseAddr, Database: name, ReadOnly: true}, nil)
	if err == nil || !strings.Contains(err.Error(), name) || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("Open(read-only, missing %s) = %v", name, err)
	}
	admin, err := clickhouse.Open(ctx, clickhouse.Config{Addr: env.ClickHouseAddr, Database: "default", ReadOnly: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var n uint64
	if err := admin.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", name).Scan(&n); err != nil || n != 0 {
		t.Fatalf("database %s exists after a read-only open (%d, %v)", name, n, err)
	}
}

// TestForEntity: any query narrows to one entity, or a * pattern of them,
// on a real server: the analyst's drill-down into one host.
func TestForEntity(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// min_z -1000: every bucket of every host.
	conn, sql := fixtureQuery(ctx, t, telemetryFixture, "metric_spike", map[string]string{"min_z": "-1000"})
	for _, tc := range []struct {
		entity string
		want   []string
	}{
		{"h1/cpu", []string{"series:h1/cpu"}},
		{"h*/cpu", []string{"series:h1/cpu", "series:h2/cpu", "series:h3/cpu"}},
		{"h2/*", []string{"series:h2/cpu"}},
		{"h9/cpu", nil},
		{"h1_cpu", nil}, // _ is not a wildcard
	} {
		cols, rows, err := lib.Run(ctx, conn, lib.ForEntity(sql, tc.entity))
		if err != nil {
			t.Fatalf("%s: %v", tc.entity, err)
		}
		var got []string
		for _, r := range rows {
			got = append(got, r[0]+":"+r[1])
		}
		slices.Sort(got)
		got = slices.Compact(got)
		if !slices.Equal(got, tc.want) || (len(rows) > 0 && cols[1] != "entity_id") {
			t.Errorf("--entity %s: %v, want %v", tc.entity, got, tc.want)
		}
	}
}

// The anomalies query shows the evidence the detector gave, as columns:
// it hid in evidence.value where an analyst could not see it.
func TestAnomaliesShowEvidence(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, sql := fixtureQuery(ctx, t, anomalyFixture, "anomalies", nil)
	cols, rows, err := lib.Run(ctx, conn, sql)
	if err != nil {
		t.Fatal(err)
	}
	col := func(name string) int { return slices.Index(cols, name) }
	for _, r := range rows {
		if r[1] != "h1/cpu" {
			continue
		}
		if r[col("value")] != "68.36" || r[col("expected")] != "38.91" || r[col("z")] != "5.31" ||
			!strings.Contains(r[col("evidence")], "host=h1") {
			t.Fatalf("evidence columns %v: %v", cols, r)
		}
		return
	}
	t.Fatalf("no h1/cpu row: %v", rows)
}

// impossible_travel gave a row per jump: bob switching between Berlin and
// Sydney three times is one incident, one row, with its jump count.
func TestImpossibleTravelOneRowPerIncident(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, sql := fixtureQuery(ctx, t, authFixture, "impossible_travel", nil)
	cols, rows, err := lib.Run(ctx, conn, sql)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0][1] != "bob" || rows[0][slices.Index(cols, "jumps")] != "3" {
		t.Fatalf("rows %v %v, want one row for bob with 3 jumps", cols, rows)
	}
}
