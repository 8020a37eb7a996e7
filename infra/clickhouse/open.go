package clickhouse

import (
	"context"
	"fmt"
	"log/slog"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/observe"
)

// Open validates cfg, connects over the native protocol, creates
// cfg.Database if it is missing (refuses it when cfg.ReadOnly) and returns a pooled connection whose
// unqualified table names resolve in that database. The caller closes it.
//
// The database is created through a first connection to "system", because
// a connection naming a missing database is refused at handshake, and
// "system" is the one database every user may use (a user held to its own
// databases by allow_databases may not open "default").
func Open(ctx context.Context, cfg Config, logger *slog.Logger) (driver.Conn, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg = cfg.Defaults()
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("clickhouse config: %w", err)
	}

	admin, err := dial(ctx, cfg, "system", logger)
	if err != nil {
		return nil, err
	}
	if cfg.ReadOnly {
		var n uint64
		err = admin.QueryRow(ctx, "SELECT count() FROM system.databases WHERE name = ?", cfg.Database).Scan(&n)
		_ = admin.Close()
		if err != nil {
			return nil, fmt.Errorf("look up database %s: %w", cfg.Database, err)
		}
		if n == 0 {
			return nil, fmt.Errorf("database %q does not exist on %s (a read-only client creates nothing; check the name)", cfg.Database, cfg.Addr)
		}
	} else {
		// Identifier is checked by Validate; DDL cannot take bound parameters.
		err = admin.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+cfg.Database+"`")
		_ = admin.Close()
		if err != nil {
			return nil, fmt.Errorf("create database %s: %w", cfg.Database, err)
		}
	}

	conn, err := dial(ctx, cfg, cfg.Database, logger)
	if err != nil {
		return nil, err
	}
	if v, err := ServerVersion(ctx, conn); err == nil {
		logger.InfoContext(ctx, "clickhouse connected", slog.String("addr", cfg.Addr),
			slog.String("database", cfg.Database), slog.String("server_version", v.String()))
	}
	return conn, nil
}

// dial opens a pool on database and pings it, so a wrong address or password
// fails here rather than on the first insert.
func dial(ctx context.Context, cfg Config, database string, logger *slog.Logger) (driver.Conn, error) {
	opts := &ch.Options{
		Protocol: ch.Native, // HTTP fails against 18.16 (unknown client_protocol_version)
		TLS:      cfg.TLS,
		Addr:     cfg.addrs(),
		Auth: ch.Auth{
			Database: database,
			Username: cfg.Username,
			Password: cfg.Password,
		},
		ClientInfo: ch.ClientInfo{
			Products: []struct{ Name, Version string }{{Name: "tributary", Version: "1"}},
		},
		// The driver warns on each pool that servers before its minimum
		// (25.8) are unsupported; Open logs the version once instead.
		Logger: observe.Relevel(logger, map[string]slog.Level{"unsupported clickhouse version": slog.LevelDebug}).
			With(slog.String("component", "clickhouse-go")),
		Settings:        cfg.settings(),
		DialTimeout:     cfg.DialTimeout,
		ReadTimeout:     cfg.ReadTimeout,
		MaxOpenConns:    cfg.MaxOpenConns,
		MaxIdleConns:    cfg.MaxIdleConns,
		ConnMaxLifetime: cfg.ConnMaxLifetime,
	}
	if cfg.Compress {
		opts.Compression = &ch.Compression{Method: ch.CompressionLZ4}
	}
	conn, err := ch.Open(opts)
	if err != nil {
		return nil, fmt.Errorf("open clickhouse %s/%s: %w", cfg.Addr, database, err)
	}
	if err := conn.Ping(ctx); err != nil {
		_ = conn.Close()
		return nil, fmt.Errorf("ping clickhouse %s/%s: %w", cfg.Addr, database, err)
	}
	return conn, nil
}
