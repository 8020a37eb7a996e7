package queries

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
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

// The README promises that base DDL and queries run on ClickHouse 18.16 and
// on current servers with the same rows. These tests hold the library to it:
// each query's fixture goes into both engines and the rows must agree.

// migrateModern applies every migration the modern engine's version admits,
// in a fresh database of the session.
func migrateModern(t *testing.T, m *testenv.Modern, db string) {
	t.Helper()
	v, err := m.Version()
	if err != nil {
		t.Fatal(err)
	}
	server, err := clickhouse.ParseVersion(v)
	if err != nil {
		t.Fatal(err)
	}
	migs, err := clickhouse.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{"CREATE DATABASE IF NOT EXISTS " + db, "USE " + db} {
		if err := m.Exec(stmt); err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
	for _, mg := range migs {
		if !mg.Applies(server) {
			t.Fatalf("migration %s does not apply to %s: a modern engine should take every step", mg.ID(), server)
		}
		stmts, err := mg.Render(nil)
		if err != nil {
			t.Fatal(err)
		}
		for i, stmt := range stmts {
			if err := m.Exec(stmt); err != nil {
				t.Fatalf("migration %s statement %d on ClickHouse %s: %v\n%s", mg.ID(), i+1, server, err, stmt)
			}
		}
	}
}

func TestMigrationsOnModernEngine(t *testing.T) {
	m := testenv.NewModern(t)
	v, err := m.Version()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("modern engine: chDB, ClickHouse %s", v)
	// Twice: every statement must be idempotent, gated ones included.
	migrateModern(t, m, "mig")
	migrateModern(t, m, "mig")
	rows, err := m.Query("SELECT name FROM system.tables WHERE database = 'mig' ORDER BY name")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r[0])
	}
	for _, want := range []string{"anomalies", "auth_events", "auth_failures_1m", "dead_letters", "metrics_1m", "task_events", "task_outcomes_1m", "telemetry_heartbeats", "telemetry_logs", "telemetry_metrics"} {
		if !slices.Contains(got, want) {
			t.Errorf("table %s missing after the migrations; have %v", want, got)
		}
	}
}

func TestQueriesAgreeAcrossEngines(t *testing.T) {
	env := testenv.Get(t)
	if env.ClickHouseHTTP == "" {
		t.Fatal("the ClickHouse HTTP address is unknown (set TRIBUTARY_CLICKHOUSE_HTTP): the comparison reads both engines' text output")
	}
	m := testenv.NewModern(t)
	v, err := m.Version()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("comparing ClickHouse at %s with chDB (ClickHouse %s)", env.ClickHouseAddr, v)
	for i, tt := range queryCases() {
		t.Run(tt.query, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			q, err := lib.Get(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			sql, err := q.Render(tt.values(), time.Now())
			if err != nil {
				t.Fatal(err)
			}
			f := &fx{}
			tt.fixture(f)

			conn := newDB(ctx, t, env.ClickHouseAddr)
			f.insert(ctx, t, conn)
			db, err := currentDatabase(ctx, conn)
			if err != nil {
				t.Fatal(err)
			}
			old, err := httpRows(ctx, env.ClickHouseHTTP, db, sql)
			if err != nil {
				t.Fatalf("on the server: %v\n%s", err, sql)
			}

			modernDB := fmt.Sprintf("q%d", i)
			migrateModern(t, m, modernDB)
			for _, ins := range f.literalInserts(t) {
				if err := m.Exec(ins); err != nil {
					t.Fatalf("fixture into chDB: %v", err)
				}
			}
			cur, err := m.Query(sql)
			if err != nil {
				t.Fatalf("on ClickHouse %s: %v\n%s", v, err, sql)
			}
			if diff := compareRows(old, cur); diff != "" {
				t.Fatalf("rows differ between engines (%s):\n%s", v, diff)
			}
			if got := entities(cur); !slices.Equal(got, tt.want) {
				t.Fatalf("found %v on both engines, want %v", got, tt.want)
			}
		})
	}
}

func currentDatabase(ctx context.Context, conn driver.Conn) (string, error) {
	var db string
	err := conn.QueryRow(ctx, "SELECT currentDatabase()").Scan(&db)
	return db, err
}

// httpRows runs sql in db over the server's HTTP interface, which prints
// TabSeparated text the way chDB does.
func httpRows(ctx context.Context, base, db, sql string) ([][]string, error) {
	u := base + "/?database=" + url.QueryEscape(db)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(sql+"\nFORMAT TabSeparated"))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	return testenv.ParseTSV(string(body)), nil
}

// compareRows reports what differs between two results, as sets of rows:
// cells equal as text, or as numbers to 1e-9 relative (engines may sum
// floats in another order).
func compareRows(a, b [][]string) string {
	sortRows(a)
	sortRows(b)
	var out strings.Builder
	for i := range max(len(a), len(b)) {
		switch {
		case i >= len(a):
			fmt.Fprintf(&out, "  only on the modern engine: %v\n", b[i])
		case i >= len(b):
			fmt.Fprintf(&out, "  only on the server:        %v\n", a[i])
		case !rowEqual(a[i], b[i]):
			fmt.Fprintf(&out, "  server: %v\n  modern: %v\n", a[i], b[i])
		}
	}
	return out.String()
}

func sortRows(rows [][]string) {
	slices.SortFunc(rows, func(x, y []string) int { return slices.Compare(x, y) })
}

func rowEqual(x, y []string) bool {
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i] == y[i] {
			continue
		}
		a, errA := strconv.ParseFloat(x[i], 64)
		b, errB := strconv.ParseFloat(y[i], 64)
		if errA != nil || errB != nil || math.Abs(a-b) > 1e-9*math.Max(math.Abs(a), math.Abs(b)) {
			return false
		}
	}
	return true
}

func entities(rows [][]string) []string {
	var got []string
	for _, r := range rows {
		got = append(got, r[0]+":"+r[1])
	}
	slices.Sort(got)
	return slices.Compact(got)
}
