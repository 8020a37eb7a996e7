package e2e

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/consumers/service"
	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/tests/kit"
	"github.com/tributary-io/tributary/tests/testenv"
)

// warnLog is what services log in these tests: warnings and worse.
func warnLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// ingestConfig is ingest on the test's own database and group, starting at
// the end of the shared servers' history (earlier runs' events would
// dominate the test's time). Its database and durables go at cleanup.
func ingestConfig(t *testing.T, env *testenv.Env, id string) service.IngestConfig {
	cfg := service.IngestConfig{
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers,
		ClickHouse: chinfra.Config{Addr: env.ClickHouseAddr, Database: "e2e_" + id},
		Group:      "e2e-" + id, FlushInterval: 50 * time.Millisecond, StartFrom: "latest", AllowLatest: true,
	}
	t.Cleanup(func() { kit.CleanShared(t, env, cfg.ClickHouse.Database, cfg.Group) })
	return cfg
}

// startIngest runs ingest with cfg until the returned stop (or the test's
// end).
func startIngest(ctx context.Context, t *testing.T, cfg service.IngestConfig) func() {
	t.Helper()
	stop := runService(ctx, t, "ingest", func(ctx context.Context, ready chan<- struct{}) error {
		return service.RunIngest(ctx, cfg, warnLog(), ready)
	})
	t.Cleanup(stop)
	return stop
}

// clients returns an SDK client on the shared servers and a ClickHouse
// connection to db, both closed at the test's end.
func clients(ctx context.Context, t *testing.T, env *testenv.Env, db string) (*publish.Conn, driver.Conn) {
	t.Helper()
	pub, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/e2e"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pub.Close() })
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return pub, conn
}
