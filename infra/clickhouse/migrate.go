package clickhouse

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// schemaMigrationsDDL is kept here rather than in migrations/ because it must
// exist before any step can be looked up. ReplacingMergeTree keyed by version:
// two services migrating at once may both record a step; the copies collapse
// and reads use DISTINCT anyway. Works on 18.16 and 25.x.
const schemaMigrationsDDL = `CREATE TABLE IF NOT EXISTS schema_migrations
(
    version        UInt32,
    name           String,
    applied_at     DateTime,
    server_version String
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version`

// Migrate applies the embedded migrations that are neither recorded in
// schema_migrations nor gated out by the server's version, in order, in the
// connection's database. It returns the IDs ("001_auth_events") it applied;
// running it again applies nothing. A step whose "-- requires:" is not met is
// logged and left unrecorded so it runs after a server upgrade.
//
// There is no lock: concurrent Migrate calls may run the same idempotent step
// twice, which is harmless (see Migration).
func Migrate(ctx context.Context, conn driver.Conn, logger *slog.Logger) (applied []string, err error) {
	return MigrateWith(ctx, conn, logger, nil)
}

// MigrateWith is Migrate with values for the steps' parameters (see
// Migration), such as event_retention_days; a name no step declares is an
// error. A step takes its values when it is applied: changing one later
// needs a new step.
func MigrateWith(ctx context.Context, conn driver.Conn, logger *slog.Logger, params map[string]string) (applied []string, err error) {
	return RunMigrations(ctx, conn, MigrateConfig{Params: params}, logger)
}

// RunMigrations is Migrate in the form cfg selects: single-node, or the
// cluster form (see RenderCluster) when cfg.Cluster is set.
func RunMigrations(ctx context.Context, conn driver.Conn, cfg MigrateConfig, logger *slog.Logger) (applied []string, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	if err := checkParams(migs, cfg.Params); err != nil {
		return nil, err
	}
	return migrate(ctx, conn, migs, logger, cfg)
}

func checkParams(migs []Migration, params map[string]string) error {
	for name := range params {
		known := false
		for _, m := range migs {
			if _, ok := m.Params[name]; ok {
				known = true
			}
		}
		if !known {
			return fmt.Errorf("migrate: no migration has a parameter %q", name)
		}
	}
	return nil
}

func migrate(ctx context.Context, conn driver.Conn, migs []Migration, logger *slog.Logger, cfg MigrateConfig) ([]string, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	for _, stmt := range cfg.preamble() {
		if err := conn.Exec(ctx, stmt); err != nil {
			head, _, _ := strings.Cut(stmt, "\n")
			return nil, fmt.Errorf("prepare migrations: %s: %w", head, err)
		}
	}
	server, err := ServerVersion(ctx, conn)
	if err != nil {
		return nil, err
	}
	done, err := appliedVersions(ctx, conn)
	if err != nil {
		return nil, err
	}

	var applied []string
	for _, m := range migs {
		if done[m.Version] {
			continue
		}
		if !m.Applies(server) {
			logger.InfoContext(ctx, "migration skipped: server too old",
				slog.String("migration", m.ID()), slog.String("requires", m.Requires.String()),
				slog.String("server_version", server.String()))
			continue
		}
		stmts, err := cfg.render(m)
		if err != nil {
			return applied, err
		}
		for i, stmt := range stmts {
			if err := conn.Exec(ctx, stmt); err != nil {
				return applied, fmt.Errorf("migration %s statement %d/%d: %w", m.ID(), i+1, len(stmts), err)
			}
		}
		if err := recordMigration(ctx, conn, m, server); err != nil {
			return applied, err
		}
		logger.InfoContext(ctx, "migration applied", slog.String("migration", m.ID()),
			slog.Int("statements", len(stmts)), slog.String("cluster", cfg.Cluster))
		applied = append(applied, m.ID())
	}
	return applied, nil
}

func appliedVersions(ctx context.Context, conn driver.Conn) (map[uint32]bool, error) {
	rows, err := conn.Query(ctx, "SELECT DISTINCT version FROM schema_migrations")
	if err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	defer rows.Close()
	done := map[uint32]bool{}
	for rows.Next() {
		var v uint32
		if err := rows.Scan(&v); err != nil {
			return nil, fmt.Errorf("read schema_migrations: %w", err)
		}
		done[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read schema_migrations: %w", err)
	}
	return done, nil
}

// recordMigration inserts through a batch: Exec with literal VALUES hangs on
// 18.16 over the native protocol.
func recordMigration(ctx context.Context, conn driver.Conn, m Migration, server Version) error {
	b, err := conn.PrepareBatch(ctx, "INSERT INTO schema_migrations (version, name, applied_at, server_version) VALUES")
	if err != nil {
		return fmt.Errorf("record migration %s: %w", m.ID(), err)
	}
	defer func() { _ = b.Close() }()
	if err := b.Append(m.Version, m.Name, time.Now().UTC().Truncate(time.Second), server.String()); err != nil {
		return fmt.Errorf("record migration %s: %w", m.ID(), err)
	}
	if err := b.Send(); err != nil {
		return fmt.Errorf("record migration %s: %w", m.ID(), err)
	}
	return nil
}
