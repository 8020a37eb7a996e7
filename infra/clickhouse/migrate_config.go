package clickhouse

import (
	"errors"
	"fmt"
)

// MigrateConfig selects the form of the migrations RunMigrations applies.
type MigrateConfig struct {
	// Cluster, when set, names the cluster (a remote_servers entry every
	// node shares) the schema is created on: Replicated…MergeTree tables
	// named x_local on every shard and Distributed tables named x on top,
	// so inserts and queries keep their table names. Empty: one server,
	// the statements exactly as the files say.
	Cluster string
	// Database is where the tables live; required with Cluster, where it
	// is rendered into ZooKeeper paths and Distributed engines (18.16 has
	// no {database} macro). It must be the connection's database.
	Database string
	// Params are values for the steps' parameters (see Migration), such as
	// event_retention_days.
	Params map[string]string
}

// Validate names each wrong field.
func (c MigrateConfig) Validate() error {
	if c.Cluster == "" {
		return nil
	}
	var errs []error
	if !identRe.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("Cluster: %q must match %s", c.Cluster, identRe))
	}
	if !identRe.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("Database: %q must match %s (required with Cluster %q)", c.Database, identRe, c.Cluster))
	}
	return errors.Join(errs...)
}

func (c MigrateConfig) target() ClusterTarget {
	return ClusterTarget{Cluster: c.Cluster, Database: c.Database}
}

// render returns m's statements in the configured form.
func (c MigrateConfig) render(m Migration) ([]string, error) {
	if c.Cluster == "" {
		return m.Render(c.Params)
	}
	return m.RenderCluster(c.Params, c.target())
}

// preamble is what runs before any step is looked up: schema_migrations
// and, on a cluster, the database on every node.
//
// On a cluster schema_migrations is one ReplicatedReplacingMergeTree whose
// ZooKeeper path has no {shard}: a single replica set spanning every node
// of every shard (replica names '{shard}-{replica}', unique even where
// replica macros repeat across shards). A migration is a fact about the
// whole cluster, not about a shard, so it is recorded once and every node
// holds the full history: a migrator connected to any node, with a shard
// down, reads the same list. A Distributed table would have split the
// history by version across shards and made it unreadable with one shard
// down; a plain table per node would have told a migrator on another node
// that nothing had run. Replication is asynchronous, so a second migrator
// may briefly not see a step and re-run it, which is harmless: every step
// is idempotent, as on one server.
func (c MigrateConfig) preamble() []string {
	if c.Cluster == "" {
		return []string{schemaMigrationsDDL}
	}
	t := c.target()
	return []string{
		"CREATE DATABASE IF NOT EXISTS " + c.Database + t.onCluster(),
		fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s%s
(
    version        UInt32,
    name           String,
    applied_at     DateTime,
    server_version String
)
ENGINE = ReplicatedReplacingMergeTree('/clickhouse/tables/all/%s/schema_migrations', '{shard}-{replica}', applied_at)
ORDER BY version`, t.q("schema_migrations"), t.onCluster(), c.Database),
	}
}

// Rendered returns every statement RunMigrations would run on a server
// that takes every step, in order: the preamble, then each migration's.
// Tests compare it with golden files; operators may read it before
// applying a schema by hand.
func Rendered(cfg MigrateConfig) ([]string, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	migs, err := Migrations()
	if err != nil {
		return nil, err
	}
	out := cfg.preamble()
	for _, m := range migs {
		stmts, err := cfg.render(m)
		if err != nil {
			return nil, err
		}
		out = append(out, stmts...)
	}
	return out, nil
}
