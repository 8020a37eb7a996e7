package ingest

import (
	"reflect"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// columnBatch records what a TypedRow appends, column by column.
type columnBatch struct {
	driver.Batch
	cols [][]any // per column, one value per row
}

type recordColumn struct {
	b *columnBatch
	i int
}

func (c recordColumn) Append(v any) error {
	rv := reflect.ValueOf(v)
	for j := range rv.Len() {
		c.b.cols[c.i] = append(c.b.cols[c.i], rv.Index(j).Interface())
	}
	return nil
}

func (c recordColumn) AppendRow(v any) error {
	c.b.cols[c.i] = append(c.b.cols[c.i], v)
	return nil
}

func (b *columnBatch) Column(i int) driver.BatchColumn { return recordColumn{b, i} }

// Every table with a typed row makes the row its Values make, and appends
// a batch of them column by column exactly as row by row would.
func TestTypedRowsMatchValues(t *testing.T) {
	now := time.Date(2025, 11, 20, 10, 0, 1, 0, time.UTC)
	origin := schemas.AuthOrigin{User: "alice", SourceIP: "203.0.113.7", UserAgent: "curl"}
	payloads := map[string][]schemas.Payload{
		MetricsTable: {
			schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "h1", Service: "api"}, Name: "cpu", Value: 0.5,
				Unit: "1", Labels: map[string]string{"b": "2", "a": "1"}},
			schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "h2", Service: "db"}, Name: "mem", Value: -3},
		},
		LogsTable: {
			schemas.LogRecord{TelemetrySource: schemas.TelemetrySource{Host: "h1", Service: "api"}, Severity: schemas.SeverityError,
				Body: "boom", Attributes: map[string]string{"z": "1", "k": "v"}},
			schemas.LogRecord{TelemetrySource: schemas.TelemetrySource{Host: "h2", Service: "db"}, Severity: schemas.SeverityInfo, Body: "ok"},
		},
		HeartbeatsTable: {
			schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: "h1", Service: "api"}, IntervalMS: 15000, Version: "1.2"},
			schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: "h2", Service: "db"}, IntervalMS: 1},
		},
		TaskTable: {
			schemas.TaskSucceeded{TaskRef: schemas.TaskRef{TaskID: "t1", TaskType: "export", Queue: "q", Attempt: 2},
				TaskRun: schemas.TaskRun{Worker: "w1", StartedAt: now.Add(-time.Minute), FinishedAt: now, DurationMS: 60000}},
			schemas.TaskSubmitted{TaskRef: schemas.TaskRef{TaskID: "t2", TaskType: "export", Queue: "q", Attempt: 1}},
			schemas.TaskFailed{TaskRef: schemas.TaskRef{TaskID: "t3", TaskType: "import", Queue: "q", Attempt: 1},
				TaskRun: schemas.TaskRun{Worker: "w2", StartedAt: now.Add(-time.Second), FinishedAt: now}, ErrorClass: "io", ErrorMessage: "disk"},
		},
		AuthTable: {
			schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "bob", SourceIP: "198.51.100.1", Geo: &schemas.Geo{Country: "DE", Lat: 52.5, Lon: 13.4}},
				Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials},
			schemas.LoginSucceeded{AuthOrigin: origin, Method: schemas.MethodOAuth, SessionID: "s1"},
			schemas.PermissionDenied{User: "carol", SourceIP: "192.0.2.1", Role: "viewer", Resource: "db", Action: "drop"},
		},
	}
	for _, tbl := range Tables() {
		if tbl.Typed == nil {
			continue
		}
		if len(payloads[tbl.Name]) == 0 {
			t.Fatalf("%s has a typed row and no payloads in this test", tbl.Name)
		}
		var rows []clickhouse.TypedRow
		var want [][]any
		for i, p := range payloads[tbl.Name] {
			env, err := schemas.NewEvent("//test", "acme", p, schemas.WithTime(now.Add(time.Duration(i)*time.Second)),
				schemas.WithSubject("s"), schemas.WithTraceParent("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"))
			if err != nil {
				t.Fatal(err)
			}
			row, err := tbl.Typed(env, p, now)
			if err != nil {
				t.Fatal(err)
			}
			vals, err := tbl.Values(env, p, now)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(row.Values(), vals) {
				t.Fatalf("%s: typed row %v, values %v", tbl.Name, row.Values(), vals)
			}
			if len(vals) != len(tbl.Columns) {
				t.Fatalf("%s: %d values for %d columns", tbl.Name, len(vals), len(tbl.Columns))
			}
			rows, want = append(rows, row), append(want, vals)
		}
		b := &columnBatch{cols: make([][]any, len(tbl.Columns))}
		if err := rows[0].AppendColumns(b, rows); err != nil {
			t.Fatal(err)
		}
		for c := range tbl.Columns {
			for r := range want {
				if len(b.cols[c]) != len(want) || !reflect.DeepEqual(b.cols[c][r], want[r][c]) {
					t.Fatalf("%s column %s: appended %v, rows say %v", tbl.Name, tbl.Columns[c], b.cols[c], want[r][c])
				}
			}
		}
		// The wrong payload is poison, as with Values.
		var login schemas.Payload = schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: "h", Service: "s"}, IntervalMS: 1}
		if tbl.Name == HeartbeatsTable {
			login = schemas.Logout{User: "u"}
		}
		env, _ := schemas.NewEvent("//test", "acme", login)
		if _, err := tbl.Typed(env, login, now); !IsPoison(err) {
			t.Fatalf("%s: wrong payload: %v, want poison", tbl.Name, err)
		}
	}
}
