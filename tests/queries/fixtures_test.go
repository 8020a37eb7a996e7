package queries

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"
)

// T is the start of every query's [since, until) hour; baselines lie before.
// Two days ago, not a fixed date: current servers expire event rows after
// their retention TTL (migration 015), even as they are inserted.
var T = time.Now().UTC().Truncate(time.Hour).Add(-48 * time.Hour)

func at(d time.Duration) time.Time { return T.Add(d) }

// fx collects fixture rows per table and inserts them with one batch each.
type fx struct {
	auth, tasks, metrics, logs, beats, anomalies [][]any
}

func (f *fx) login(typ, user, ip, country string, lat, lon float64, t time.Time) {
	var la, lo *float64
	if country != "" {
		la, lo = &lat, &lon
	}
	f.auth = append(f.auth, []any{uuid.New(), "io.tributary.auth." + typ, "acme", user, ip, country, la, lo, "/r", t, t})
}

func (f *fx) task(id, typ, status string, attempt uint16, durMS float64, t time.Time) {
	var d *float64
	if durMS >= 0 {
		d = &durMS
	}
	f.tasks = append(f.tasks, []any{uuid.New(), "acme", id, typ, "default", attempt, status, d, t, t})
}

func (f *fx) metric(host string, v float64, t time.Time) {
	f.metrics = append(f.metrics, []any{uuid.New(), "acme", host, "api", "cpu", v, t, t})
}

func (f *fx) log(host, sev string, t time.Time) {
	f.logs = append(f.logs, []any{uuid.New(), "acme", host, "api", sev, "x", t, t})
}

func (f *fx) beat(host string, t time.Time) {
	f.beats = append(f.beats, []any{uuid.New(), "acme", host, "agent", uint32(5000), t, t})
}

func (f *fx) anomaly(id uuid.UUID, tenant, kind, entityType, entityID string, score float64, t, ingested time.Time, evidence ...string) {
	var keys, values []string
	for i := 0; i+1 < len(evidence); i += 2 {
		keys, values = append(keys, evidence[i]), append(values, evidence[i+1])
	}
	f.anomalies = append(f.anomalies, []any{id, tenant, kind, "telemetry", entityType, entityID, score, "warning", t, t.Add(time.Minute), "test", "1", keys, values, t, ingested})
}

// batches pairs each table's INSERT with its rows.
func (f *fx) batches() []batch {
	return []batch{
		{"INSERT INTO auth_events (event_id, event_type, tenant, user_id, source_ip, country, latitude, longitude, resource, event_time, ingest_time) VALUES", f.auth},
		{"INSERT INTO task_events (event_id, tenant, task_id, task_type, queue, attempt, status, duration_ms, event_time, ingest_time) VALUES", f.tasks},
		{"INSERT INTO telemetry_metrics (event_id, tenant, host, service, name, value, event_time, ingest_time) VALUES", f.metrics},
		{"INSERT INTO telemetry_logs (event_id, tenant, host, service, severity, body, event_time, ingest_time) VALUES", f.logs},
		{"INSERT INTO telemetry_heartbeats (event_id, tenant, host, service, interval_ms, event_time, ingest_time) VALUES", f.beats},
		{"INSERT INTO anomalies (event_id, tenant, kind, family, entity_type, entity_id, score, severity, window_start, window_end, detector, detector_version, evidence.key, evidence.value, event_time, ingest_time) VALUES", f.anomalies},
	}
}

type batch struct {
	sql  string
	rows [][]any
}

func (f *fx) insert(ctx context.Context, t *testing.T, conn driver.Conn) {
	t.Helper()
	for _, b := range f.batches() {
		if len(b.rows) == 0 {
			continue
		}
		batch, err := conn.PrepareBatch(ctx, b.sql)
		if err != nil {
			t.Fatalf("prepare %s: %v", b.sql[:30], err)
		}
		for _, r := range b.rows {
			if err := batch.Append(r...); err != nil {
				t.Fatalf("append: %v", err)
			}
		}
		if err := batch.Send(); err != nil {
			t.Fatalf("send: %v", err)
		}
	}
}

// literalInserts renders the same rows as INSERT … VALUES statements, for
// an engine reached without the native protocol (chDB).
func (f *fx) literalInserts(t *testing.T) []string {
	t.Helper()
	var out []string
	for _, b := range f.batches() {
		if len(b.rows) == 0 {
			continue
		}
		var sb strings.Builder
		sb.WriteString(b.sql)
		for i, r := range b.rows {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(" (")
			for j, v := range r {
				if j > 0 {
					sb.WriteString(", ")
				}
				lit, err := sqlLiteral(v)
				if err != nil {
					t.Fatalf("%s row %d column %d: %v", b.sql[:30], i, j, err)
				}
				sb.WriteString(lit)
			}
			sb.WriteByte(')')
		}
		out = append(out, sb.String())
	}
	return out
}

func sqlLiteral(v any) (string, error) {
	quote := func(s string) string {
		return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
	}
	switch x := v.(type) {
	case string:
		return quote(x), nil
	case uuid.UUID:
		return quote(x.String()), nil
	case time.Time:
		if x.Nanosecond() != 0 {
			return "", fmt.Errorf("time %s: DateTime columns hold whole seconds", x)
		}
		return quote(x.UTC().Format(time.DateTime)), nil
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case *float64:
		if x == nil {
			return "NULL", nil
		}
		return strconv.FormatFloat(*x, 'g', -1, 64), nil
	case uint16, uint32:
		return fmt.Sprint(x), nil
	case []string:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = quote(e)
		}
		return "[" + strings.Join(parts, ", ") + "]", nil
	}
	return "", fmt.Errorf("no literal for %T", v)
}

func sec(n int) time.Duration { return time.Duration(n) * time.Second }

func authFixture(f *fx) {
	for i := range 10 { // brute force on victim
		f.login("login.failed", "victim", "10.0.0.9", "", 0, 0, at(sec(60+3*i)))
	}
	for i := range 3 { // ordinary typos
		f.login("login.failed", "normal", "10.0.0.1", "", 0, 0, at(sec(600+60*i)))
	}
	for i := range 25 { // one IP on two users: brute force from an IP
		f.login("login.failed", fmt.Sprintf("u%d", i%2), "203.0.113.1", "", 0, 0, at(sec(1200+i)))
	}
	for i := range 25 { // one IP on 25 users: stuffing
		f.login("login.failed", fmt.Sprintf("guess%d", i), "203.0.113.2", "", 0, 0, at(sec(1800+i)))
	}
	for i := range 6 {
		f.login("mfa.denied", "carol", "10.0.0.5", "", 0, 0, at(sec(300+10*i)))
	}
	for i := range 2 {
		f.login("mfa.denied", "dave", "10.0.0.6", "", 0, 0, at(sec(300+10*i)))
	}
	for i := range 15 {
		f.login("permission.denied", "mallory", "10.0.0.7", "", 0, 0, at(sec(900+i)))
	}
	for i := range 3 {
		f.login("permission.denied", "bob", "10.0.0.8", "", 0, 0, at(sec(900+i)))
	}
	// Travel: bob Berlin → Sydney in 30 min; alice Berlin → Paris in 3 h
	// (her second login after the hour still pairs inside [since, until)
	// only if both are inside, so put both inside with 50 min: 880 km /
	// 0.83 h ≈ 1060 km/h — too fast; use Munich, 500 km: ~600 km/h).
	f.login("login.succeeded", "bob", "10.1.0.1", "DE", 52.5, 13.4, at(sec(100)))
	f.login("login.succeeded", "bob", "10.1.0.2", "AU", -33.9, 151.2, at(sec(1900)))
	// Bob keeps switching: three impossible jumps, one incident, one row.
	f.login("login.succeeded", "bob", "10.1.0.1", "DE", 52.5, 13.4, at(sec(2500)))
	f.login("login.succeeded", "bob", "10.1.0.2", "AU", -33.9, 151.2, at(sec(3100)))
	f.login("login.succeeded", "alice", "10.1.0.3", "DE", 52.5, 13.4, at(sec(100)))
	f.login("login.succeeded", "alice", "10.1.0.4", "DE", 48.1, 11.6, at(sec(3100)))
	// New country: history before T.
	for i := range 6 {
		f.login("login.succeeded", "seasoned", "10.2.0.1", "DE", 52.5, 13.4, at(-sec(3600*(i+1))))
	}
	for i := range 2 {
		f.login("login.succeeded", "newbie", "10.2.0.2", "DE", 52.5, 13.4, at(-sec(3600*(i+1))))
	}
	f.login("login.succeeded", "seasoned", "10.2.0.1", "FR", 48.9, 2.35, at(sec(2000)))
	f.login("login.succeeded", "newbie", "10.2.0.2", "FR", 48.9, 2.35, at(sec(2000)))
}

func taskFixture(f *fx) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 0
	id := func() string { n++; return fmt.Sprintf("t%d", n) }
	dur := func(ms float64) float64 { return ms * (1 + 0.1*rng.NormFloat64()) }
	// Baseline hour before T: both series healthy, ~800 ms, 2% failures.
	for i := range 200 {
		for _, typ := range []string{"export", "email"} {
			st := "succeeded"
			if i%50 == 0 {
				st = "failed"
			}
			f.task(id(), typ, st, 1, dur(800), at(-sec(3600-15*i)))
		}
	}
	// In the hour: export fails 80% in minute 10; email stays healthy.
	for i := range 20 {
		st := "succeeded"
		if i%5 != 0 {
			st = "failed"
		}
		f.task(id(), "export", st, 1, dur(800), at(sec(600+2*i)))
		f.task(id(), "email", "succeeded", 1, dur(800), at(sec(600+2*i)))
	}
	// Latency: export completions every 2 s from minute 19.5 to 22.5 run
	// ×5 for 36 s astride a minute boundary (so minute buckets would each
	// be half fast), email normal.
	for s := 1170; s < 1350; s += 2 {
		d := 800.0
		if s >= 1250 && s < 1286 {
			d = 4000
		}
		f.task(id(), "export", "succeeded", 1, dur(d), at(sec(s)))
		f.task(id(), "email", "succeeded", 1, dur(800), at(sec(s)))
	}
	// Stuck: s1 never ends; s2 ends; s3 is too young to call.
	f.task("s1", "export", "started", 1, -1, at(sec(300)))
	f.task("s2", "export", "started", 1, -1, at(sec(300)))
	f.task("s2", "export", "succeeded", 1, 900, at(sec(301)))
	f.task("s3", "export", "started", 1, -1, at(sec(3550)))
	// s4: attempt 1 failed and retried, attempt 2 started and never ended.
	f.task("s4", "email", "started", 1, -1, at(sec(400)))
	f.task("s4", "email", "retried", 2, -1, at(sec(401)))
	f.task("s4", "email", "started", 2, -1, at(sec(402)))
	// Retries: 25 on export in a minute, 3 on email.
	for i := range 25 {
		f.task(fmt.Sprintf("r%d", i%5), "export", "retried", uint16(2+i/5), -1, at(sec(2400+2*i)))
	}
	for i := range 3 {
		f.task(fmt.Sprintf("q%d", i), "email", "retried", 2, -1, at(sec(2400+2*i)))
	}
}

func telemetryFixture(f *fx) {
	rng := rand.New(rand.NewPCG(3, 4))
	for s := -3600; s < 3600; s += 2 {
		for _, h := range []string{"h1", "h2", "h3"} {
			v := 50 * (1 + 0.05*rng.NormFloat64())
			if h == "h1" && s >= 1200 && s < 1220 {
				v *= 3
			}
			if h == "h2" && s >= 1800 && s < 1820 {
				v *= 0.05
			}
			f.metric(h, v, at(sec(s)))
		}
	}
	for s := 0; s < 3600; s += 5 {
		f.beat("h1", at(sec(s)))
		if s < 3000 {
			f.beat("h2", at(sec(s)))
		}
	}
	for i := range 30 {
		f.log("h1", "error", at(sec(600+i)))
	}
	for i := range 2 {
		f.log("h2", "error", at(sec(600+i)))
	}
	for i := range 100 {
		f.log("h2", "info", at(sec(600+i)))
	}
}

func anomalyFixture(f *fx) {
	spike := uuid.New()
	// The same event stored twice (a redelivery): FINAL must show it once.
	ev := []string{"host", "h1", "value", "68.36", "expected", "38.91", "z", "5.31"}
	f.anomaly(spike, "acme", "metric_spike", "series", "h1/cpu", 0.7, at(sec(1200)), at(sec(1201)), ev...)
	f.anomaly(spike, "acme", "metric_spike", "series", "h1/cpu", 0.7, at(sec(1200)), at(sec(1260)), ev...)
	f.anomaly(uuid.New(), "acme", "brute_force", "user", "victim", 0.9, at(sec(90)), at(sec(91)), "failures", "12")
	// Outside the hour, and another tenant's: not listed.
	f.anomaly(uuid.New(), "acme", "metric_drop", "series", "h2/cpu", 0.8, at(-sec(60)), at(-sec(59)))
	f.anomaly(uuid.New(), "other", "metric_drop", "series", "h3/cpu", 0.8, at(sec(60)), at(sec(61)))
}
