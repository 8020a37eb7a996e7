package ingest

import (
	"bytes"
	"errors"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// col returns the value of column name in a row of table t.
func col(t *testing.T, tbl Table, row []any, name string) any {
	t.Helper()
	for i, c := range tbl.Columns {
		if c == name {
			return row[i]
		}
	}
	t.Fatalf("%s has no column %s", tbl.Name, name)
	return nil
}

func tableOf(t *testing.T, name string) Table {
	t.Helper()
	for _, tb := range Tables() {
		if tb.Name == name {
			return tb
		}
	}
	t.Fatalf("no table %s", name)
	return Table{}
}

func TestRowMappers(t *testing.T) {
	start := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
	run := schemas.TaskRun{Worker: "w-1", StartedAt: start, FinishedAt: start.Add(1500 * time.Millisecond), DurationMS: 1500}
	ref := schemas.TaskRef{TaskID: "t-1", TaskType: "export.csv", Queue: "default", Attempt: 2}
	tests := []struct {
		name  string
		table string
		p     schemas.Payload
		want  map[string]any
	}{
		{"task failed keeps its run and error", TaskTable,
			schemas.TaskFailed{TaskRef: ref, TaskRun: run, ErrorClass: "Timeout", ErrorMessage: "deadline"},
			map[string]any{"status": "failed", "task_type": "export.csv", "attempt": uint16(2), "worker": "w-1",
				"error_class": "Timeout", "error_message": "deadline", "started_at": start}},
		{"task submitted has no duration and zero times", TaskTable,
			schemas.TaskSubmitted{TaskRef: ref},
			map[string]any{"status": "submitted", "duration_ms": (*float64)(nil), "started_at": time.Unix(0, 0).UTC()}},
		{"task timed out", TaskTable, schemas.TaskTimedOut{TaskRef: ref, TaskRun: run, TimeoutMS: 1000},
			map[string]any{"status": "timed_out", "queue": "default"}},
		{"task retried carries the previous error", TaskTable,
			schemas.TaskRetried{TaskRef: ref, PreviousErrorClass: "Timeout"},
			map[string]any{"status": "retried", "error_class": "Timeout"}},
		{"log record", LogsTable,
			schemas.LogRecord{TelemetrySource: schemas.TelemetrySource{Host: "h", Service: "api"}, Severity: schemas.SeverityError,
				Body: "boom", Attributes: map[string]string{"b": "2", "a": "1"}},
			map[string]any{"severity": "error", "body": "boom", "host": "h"}},
		{"heartbeat", HeartbeatsTable,
			schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: "h", Service: "api"}, IntervalMS: 5000, Version: "1.2"},
			map[string]any{"interval_ms": uint32(5000), "version": "1.2", "service": "api"}},
		{"anomaly", AnomaliesTable,
			schemas.Anomaly{Kind: "brute_force", Family: schemas.FamilyAuth, Entity: schemas.Entity{Type: "user", ID: "alice"},
				Score: 9, Severity: schemas.SeverityHigh, WindowStart: start, WindowEnd: start.Add(time.Minute),
				Detector: "bf", Evidence: map[string]string{"failures": "12"}},
			map[string]any{"kind": "brute_force", "family": "auth", "entity_id": "alice", "severity": "high",
				"window_start": start, "detector": "bf"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tbl := tableOf(t, tt.table)
			env := mustEvent(t, tt.p)
			row, err := tbl.Values(env, tt.p, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if len(row) != len(tbl.Columns) {
				t.Fatalf("row has %d values for %d columns", len(row), len(tbl.Columns))
			}
			for c, want := range tt.want {
				got := col(t, tbl, row, c)
				if gt, ok := got.(time.Time); ok {
					if !gt.Equal(want.(time.Time)) {
						t.Errorf("%s = %v, want %v", c, got, want)
					}
					continue
				}
				if p, ok := got.(*float64); ok && want == (*float64)(nil) {
					if p != nil {
						t.Errorf("%s = %v, want NULL", c, *p)
					}
					continue
				}
				if got != want {
					t.Errorf("%s = %#v, want %#v", c, got, want)
				}
			}
		})
	}
}

func TestRowMappersRefuseOtherTypes(t *testing.T) {
	login := schemas.Logout{User: "bob"}
	env := mustEvent(t, login)
	for _, tbl := range Tables() {
		if tbl.Name == AuthTable {
			continue
		}
		if _, err := tbl.Values(env, login, time.Now()); !errors.Is(err, schemas.ErrUnknownType) || !IsPoison(err) {
			t.Errorf("%s with an auth event: err %v, want poison ErrUnknownType", tbl.Name, err)
		}
	}
}

func TestAnomalyWindowTooOld(t *testing.T) {
	now := time.Now().UTC()
	a := schemas.Anomaly{Kind: "k", Family: schemas.FamilyAuth, Entity: schemas.Entity{Type: "user", ID: "u"},
		Severity: schemas.SeverityLow, WindowStart: now.Add(-30 * 24 * time.Hour), WindowEnd: now, Detector: "d"}
	env := mustEvent(t, a)
	if _, err := AnomalyValues(env, a, now); !errors.Is(err, schemas.ErrClockSkew) || !IsPoison(err) {
		t.Fatalf("a 30-day-old window: err %v, want poison ErrClockSkew", err)
	}
}

func TestNestedPairsAreSorted(t *testing.T) {
	keys, values := pairs(map[string]string{"z": "26", "a": "1", "m": "13"})
	if len(keys) != 3 || keys[0] != "a" || keys[2] != "z" || values[0] != "1" || values[2] != "26" {
		t.Fatalf("pairs = %v %v", keys, values)
	}
}

func TestDeadLetterValues(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	tests := []struct {
		name       string
		md         map[string]string
		topic      string
		wantFamily string
	}{
		{"family from the event type", map[string]string{schemas.MetaType: schemas.TypeLoginFailed,
			middleware.ReasonForPoisonedKey: "bad json", middleware.PoisonedTopicKey: "auth.>"}, "dlq.>", "auth"},
		{"family from the dlq topic when the type is unknown", map[string]string{schemas.MetaType: "x.y"}, "dlq.telemetry", "telemetry"},
		{"unknown when neither says", map[string]string{}, "dlq.>", "unknown"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := message.NewMessage("id-1", []byte(`{"user":`))
			for k, v := range tt.md {
				msg.Metadata.Set(k, v)
			}
			row := DeadLetterValues(msg, schemas.TransportKafka, tt.topic, now)
			tbl := Table{Name: DeadLettersTable, Columns: DeadLettersColumns}
			if len(row) != len(DeadLettersColumns) {
				t.Fatalf("row has %d values", len(row))
			}
			if got := col(t, tbl, row, "family"); got != tt.wantFamily {
				t.Errorf("family = %v, want %s", got, tt.wantFamily)
			}
			if col(t, tbl, row, "payload") != `{"user":` || col(t, tbl, row, "event_id") != "id-1" {
				t.Errorf("payload/id not verbatim: %v", row)
			}
			if keys := col(t, tbl, row, "headers.key").([]string); len(keys) != len(tt.md) {
				t.Errorf("headers = %v, want %d", keys, len(tt.md))
			}
			if r, ok := tt.md[middleware.ReasonForPoisonedKey]; ok && col(t, tbl, row, "reason") != r {
				t.Errorf("reason = %v", col(t, tbl, row, "reason"))
			}
		})
	}
}

func TestDeadLettersHandler(t *testing.T) {
	msg := message.NewMessage("id-2", []byte("garbage"))
	ok := &fakeWriter{}
	if err := NewDeadLetters(ok, schemas.TransportJetStream, "dlq.>", nil).Handle(msg); err != nil || len(ok.rows) != 1 {
		t.Fatalf("Handle = %v, rows %d", err, len(ok.rows))
	}
	// Issue 11, item 2: acking a dead letter ClickHouse refused dropped it.
	refused := &fakeWriter{err: clickhouse.ErrPermanent}
	if err := NewDeadLetters(refused, schemas.TransportJetStream, "dlq.>", nil).Handle(msg); !errors.Is(err, clickhouse.ErrPermanent) {
		t.Fatalf("a dead letter that cannot be stored must never be acked: Handle = %v, want the writer's error", err)
	}
	down := &fakeWriter{err: errors.New("connection refused")}
	if err := NewDeadLetters(down, schemas.TransportJetStream, "dlq.>", nil).Handle(msg); err == nil {
		t.Fatal("ClickHouse down must be retried, got nil")
	}
}

func TestDeadLettersStoreTruncates(t *testing.T) {
	big := bytes.Repeat([]byte("x"), MaxDirectPayload+10)
	msg := message.NewMessage("id-3", big)
	msg.Metadata.Set(middleware.ReasonForPoisonedKey, "event too large")
	msg.Metadata.Set(schemas.MetaType, schemas.TypeMetric)
	w := &fakeWriter{}
	d := NewDeadLetters(w, schemas.TransportKafka, "dlq.telemetry", nil)
	if err := d.Store(t.Context(), msg); err != nil || len(w.rows) != 1 {
		t.Fatalf("Store = %v, rows %d", err, len(w.rows))
	}
	tbl := Table{Name: DeadLettersTable, Columns: DeadLettersColumns}
	row := w.rows[0]
	if got := len(col(t, tbl, row, "payload").(string)); got != MaxDirectPayload {
		t.Errorf("payload %d bytes, want %d", got, MaxDirectPayload)
	}
	if col(t, tbl, row, "reason") != "event too large" || col(t, tbl, row, "family") != "telemetry" {
		t.Errorf("reason %v family %v", col(t, tbl, row, "reason"), col(t, tbl, row, "family"))
	}
	keys, values := col(t, tbl, row, "headers.key").([]string), col(t, tbl, row, "headers.value").([]string)
	if i := slices.Index(keys, MetaPayloadBytes); i < 0 || values[i] != strconv.Itoa(len(big)) {
		t.Errorf("headers %v %v: want the original size in %s", keys, values, MetaPayloadBytes)
	}
	if len(msg.Payload) != len(big) {
		t.Errorf("Store changed the caller's message")
	}
	down := &fakeWriter{err: errors.New("connection refused")}
	if err := NewDeadLetters(down, schemas.TransportKafka, "dlq.telemetry", nil).Store(t.Context(), msg); err == nil {
		t.Fatal("Store must report a failed insert, so the caller does not ack")
	}
}
