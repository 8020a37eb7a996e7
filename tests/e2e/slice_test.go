// Package e2e runs whole paths of the platform on real servers: producers
// publish through the SDK, consumer services run in-process exactly as
// their mains run them, and rows are checked in ClickHouse by event id.
package e2e

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/consumers/service"
	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/kit"
	"github.com/tributary-io/tributary/tests/testenv"
)

func suffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// TestFirstSlice: an auth login goes to JetStream and a metric to Kafka; the
// ingest consumer groups (a durable JetStream consumer and a Kafka consumer
// group) write both to ClickHouse, and each row is found by its event id.
// A task, a log, a heartbeat and an anomaly ride along, one per table.
func TestFirstSlice(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id := suffix(t)
	db := "e2e_" + id
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))

	cfg := service.IngestConfig{
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers,
		ClickHouse: chinfra.Config{Addr: env.ClickHouseAddr, Database: db},
		Group:      "e2e-" + id, FlushInterval: 50 * time.Millisecond,
		// The shared servers hold every earlier run's events; a new group
		// reading them all would dominate the test's time.
		StartFrom: "latest", AllowLatest: true,
	}
	runCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- service.RunIngest(runCtx, cfg, log, ready) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("ingest stopped with %v", err)
		}
		kit.CleanShared(t, env, db, cfg.Group)
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("ingest failed to start: %v", err)
	case <-ctx.Done():
		t.Fatal("ingest not running after 3 minutes")
	}

	pub, err := publish.Dial(ctx, publish.DialConfig{
		Config:  publish.Config{Source: "//tributary/e2e"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()

	tenant := "e2e" + id
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	warmUp(ctx, t, pub, conn, tenant+"w")

	const n = 20
	var authIDs, metricIDs []string
	for i := range n {
		login, err := schemas.NewEvent("//tributary/e2e", tenant, schemas.LoginFailed{
			AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("user-%d", i%3), SourceIP: "192.0.2.10",
				Geo: &schemas.Geo{Country: "FR", Lat: 48.85, Lon: 2.35}},
			Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials,
		})
		if err != nil {
			t.Fatal(err)
		}
		sent, err := pub.Publish(ctx, login)
		if err != nil {
			t.Fatalf("publish login: %v", err)
		}
		authIDs = append(authIDs, sent.ID)

		metric, err := schemas.NewEvent("//tributary/e2e", tenant, schemas.MetricSample{
			TelemetrySource: schemas.TelemetrySource{Host: fmt.Sprintf("host-%d", i%4), Service: "api"},
			Name:            "cpu.usage", Value: float64(i) / 100, Unit: "ratio", Labels: map[string]string{"zone": "a"},
		})
		if err != nil {
			t.Fatal(err)
		}
		if sent, err = pub.Publish(ctx, metric); err != nil {
			t.Fatalf("publish metric: %v", err)
		}
		metricIDs = append(metricIDs, sent.ID)
	}

	// One of each other family: a task, a log, a heartbeat, and an anomaly,
	// which goes to both transports and must be ingested once (from Kafka).
	start := time.Now().UTC().Add(-2 * time.Second)
	others := map[string]schemas.Payload{
		"task_events": schemas.TaskFailed{TaskRef: schemas.TaskRef{TaskID: "t-" + id, TaskType: "export.csv", Queue: "default", Attempt: 1},
			TaskRun: schemas.TaskRun{Worker: "w-1", StartedAt: start, FinishedAt: start.Add(time.Second), DurationMS: 1000}, ErrorClass: "Timeout"},
		"telemetry_logs": schemas.LogRecord{TelemetrySource: schemas.TelemetrySource{Host: "host-1", Service: "api"},
			Severity: schemas.SeverityError, Body: "upstream timed out"},
		"telemetry_heartbeats": schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: "host-1", Service: "api"}, IntervalMS: 10000},
		"anomalies": schemas.Anomaly{Kind: "brute_force", Family: schemas.FamilyAuth, Entity: schemas.Entity{Type: "user", ID: "user-1"},
			Score: 7, Severity: schemas.SeverityHigh, WindowStart: start, WindowEnd: start.Add(time.Second), Detector: "e2e"},
	}
	otherIDs := map[string][]string{}
	for table, p := range others {
		ev, err := schemas.NewEvent("//tributary/e2e", tenant, p)
		if err != nil {
			t.Fatal(err)
		}
		sent, err := pub.Publish(ctx, ev)
		if err != nil {
			t.Fatalf("publish %s: %v", table, err)
		}
		otherIDs[table] = []string{sent.ID}
	}

	waitForIDs(ctx, t, conn, "auth_events", authIDs)
	waitForIDs(ctx, t, conn, "telemetry_metrics", metricIDs)
	for table, ids := range otherIDs {
		waitForIDs(ctx, t, conn, table, ids)
	}
	// Ingested from Kafka only: the raw table (no FINAL) holds one row of
	// it. Counted by id: a detector running on the same bus may add
	// findings of its own for this tenant's failed logins.
	var raw uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM anomalies WHERE toString(event_id) = ?", otherIDs["anomalies"][0]).Scan(&raw); err != nil || raw != 1 {
		t.Fatalf("anomalies holds %d raw rows (err %v), want 1: an anomaly is published to both transports and ingested once", raw, err)
	}
	// The per-minute rollup saw the auth failures.
	var failures uint64
	if err := conn.QueryRow(ctx, "SELECT uniqMerge(distinct_events) FROM auth_failures_1m WHERE tenant = ?", tenant).Scan(&failures); err != nil || failures != n {
		t.Fatalf("auth_failures_1m counts %d failures (err %v), want %d", failures, err, n)
	}

	var user, country, reason string
	if err := conn.QueryRow(ctx, "SELECT user_id, country, failure_reason FROM auth_events FINAL WHERE event_id = toUUID(?)", authIDs[4]).
		Scan(&user, &country, &reason); err != nil {
		t.Fatal(err)
	}
	if user != "user-1" || country != "FR" || reason != "bad_credentials" {
		t.Fatalf("auth row = %s/%s/%s, want user-1/FR/bad_credentials", user, country, reason)
	}
}

// waitForIDs polls until every id has exactly one row in the
// exactly-once view (FINAL), or fails listing what is missing.
func waitForIDs(ctx context.Context, t *testing.T, conn driver.Conn, table string, ids []string) {
	t.Helper()
	in := "'" + strings.Join(ids, "','") + "'"
	query := fmt.Sprintf("SELECT toString(event_id) FROM %s FINAL WHERE toString(event_id) IN (%s)", table, in)
	err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		rows, err := conn.Query(ctx, query)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		got := map[string]bool{}
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				return true, err
			}
			if got[id] {
				return true, fmt.Errorf("event %s appears twice in the FINAL view", id)
			}
			got[id] = true
		}
		if err := rows.Err(); err != nil {
			return false, err
		}
		var missing []string
		for _, id := range ids {
			if !got[id] {
				missing = append(missing, id)
			}
		}
		if len(missing) > 0 {
			return false, fmt.Errorf("%d of %d events missing: %v", len(missing), len(ids), missing)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("%s: %v", table, err)
	}
	t.Logf("%s: all %d events landed", table, len(ids))
}

// warmUp publishes canary events (tenant of their own) to every Kafka topic
// the sink reads until each has landed. With StartFrom "latest", a Kafka
// group resolves its start when partitions are assigned, which happens
// after the router reports running; events published before that would
// be skipped. JetStream durables start at creation, before ready.
func warmUp(ctx context.Context, t *testing.T, pub *publish.Conn, conn driver.Conn, tenant string) {
	t.Helper()
	canaries := map[string]func() schemas.Payload{
		"telemetry_metrics": func() schemas.Payload {
			return schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "canary", Service: "e2e"}, Name: "canary", Value: 1}
		},
		"telemetry_logs": func() schemas.Payload {
			return schemas.LogRecord{TelemetrySource: schemas.TelemetrySource{Host: "canary", Service: "e2e"}, Severity: schemas.SeverityInfo, Body: "canary"}
		},
		"telemetry_heartbeats": func() schemas.Payload {
			return schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: "canary", Service: "e2e"}, IntervalMS: 1000}
		},
		"anomalies": func() schemas.Payload {
			now := time.Now().UTC()
			return schemas.Anomaly{Kind: "canary", Family: schemas.FamilyTelemetry, Entity: schemas.Entity{Type: "host", ID: "canary"},
				Severity: schemas.SeverityLow, WindowStart: now.Add(-time.Second), WindowEnd: now, Detector: "e2e"}
		},
	}
	start := time.Now()
	for table, mk := range canaries {
		err := poll.Until(ctx, 300*time.Millisecond, func(ctx context.Context) (bool, error) {
			ev, err := schemas.NewEvent("//tributary/e2e", tenant, mk())
			if err != nil {
				return true, err
			}
			if _, err := pub.Publish(ctx, ev); err != nil {
				return true, fmt.Errorf("publish canary: %w", err)
			}
			var rows uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM "+table+" WHERE tenant = ?", tenant).Scan(&rows); err != nil {
				return false, err
			}
			return rows > 0, nil
		})
		if err != nil {
			t.Fatalf("%s: no canary landed: is the Kafka group assigned? %v", table, err)
		}
	}
	t.Logf("every Kafka group consuming after %s", time.Since(start).Round(time.Millisecond))
}
