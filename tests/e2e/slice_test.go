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
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
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
	}
	runCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- service.RunIngest(runCtx, cfg, log, ready) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("ingest stopped with %v", err)
		}
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

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	waitForIDs(ctx, t, conn, "auth_events", authIDs)
	waitForIDs(ctx, t, conn, "telemetry_metrics", metricIDs)

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
	var got map[string]bool
	for {
		rows, err := conn.Query(ctx, query)
		if err == nil {
			got = map[string]bool{}
			dup := ""
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					t.Fatal(err)
				}
				if got[id] {
					dup = id
				}
				got[id] = true
			}
			rows.Close()
			if dup != "" {
				t.Fatalf("%s: event %s appears twice in the FINAL view", table, dup)
			}
			if len(got) == len(ids) {
				t.Logf("%s: all %d events landed", table, len(ids))
				return
			}
		}
		select {
		case <-ctx.Done():
			var missing []string
			for _, id := range ids {
				if !got[id] {
					missing = append(missing, id)
				}
			}
			t.Fatalf("%s: %d of %d events missing (last query error %v): %v", table, len(missing), len(ids), err, missing)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
