// Package clickhouse_test runs infra/clickhouse against a real server from
// testenv. Every test gets its own database and drops it afterwards.
package clickhouse_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/tests/testenv"
)

// testDB is one test's database on the shared server.
type testDB struct {
	Conn    driver.Conn
	Config  chinfra.Config
	Version chinfra.Version
}

// newDB opens a fresh database "t_<random>" and drops it at cleanup.
func newDB(t *testing.T) *testDB {
	t.Helper()
	env := testenv.Get(t)
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	cfg := chinfra.Config{Addr: env.ClickHouseAddr, Database: "t_" + hex.EncodeToString(b)}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	conn, err := chinfra.Open(ctx, cfg, testLogger(t))
	if err != nil {
		t.Fatalf("open clickhouse at %s (from %s): %v", env.ClickHouseAddr, env.Source, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+cfg.Database+"`"); err != nil {
			t.Errorf("drop database %s: %v", cfg.Database, err)
		}
		_ = conn.Close()
	})
	v, err := chinfra.ServerVersion(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("clickhouse version %s, database %s", v, cfg.Database)
	return &testDB{Conn: conn, Config: cfg.Defaults(), Version: v}
}

// migrated is newDB with the embedded migrations applied.
func migrated(t *testing.T) *testDB {
	t.Helper()
	db := newDB(t)
	if _, err := chinfra.Migrate(t.Context(), db.Conn, testLogger(t)); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

func queryUint64(t *testing.T, conn driver.Conn, query string, args ...any) uint64 {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}
