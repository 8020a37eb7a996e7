package clickhouse_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestClusterMigrateInsertRead runs the cluster form of the migrations on
// a private 2 shards × 2 replicas cluster (ClickHouse 18.16, ZooKeeper):
// applied twice it is idempotent, a migrator on another node sees the
// history, rows written through the BatchWriter into the Distributed
// table land on both shards with every copy of an event on one shard,
// FINAL through the Distributed table collapses the copies, replicas
// agree, and the per-shard rollups read through their Distributed table
// count what one server would.
func TestClusterMigrateInsertRead(t *testing.T) {
	cl := testenv.PrivateCHCluster(t)
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	log := testLogger(t)
	cfg := chinfra.Config{Addr: cl.Addr, Database: "tributary", Cluster: cl.Name}
	conn, err := chinfra.Open(ctx, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	server, err := chinfra.ServerVersion(ctx, conn)
	if err != nil {
		t.Fatal(err)
	}

	// Every step this server takes, and only those, the first time.
	migs, err := chinfra.Migrations()
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, m := range migs {
		if m.Applies(server) {
			want = append(want, m.ID())
		}
	}
	began := time.Now()
	first, err := chinfra.RunMigrations(ctx, conn, cfg.Migrate(nil), log)
	if err != nil {
		t.Fatalf("cluster migrate: %v", err)
	}
	t.Logf("cluster form: %d steps applied on %s in %s", len(first), server, time.Since(began).Round(time.Millisecond))
	if !slices.Equal(first, want) {
		t.Fatalf("applied %v, want %v", first, want)
	}
	if again, err := chinfra.RunMigrations(ctx, conn, cfg.Migrate(nil), log); err != nil || len(again) != 0 {
		t.Fatalf("second run: applied %v, err %v; want nothing", again, err)
	}
	// The statements themselves are idempotent too (a crash between a
	// step and its record re-runs it): run every applicable one again.
	for _, m := range migs {
		if !m.Applies(server) {
			continue
		}
		stmts, err := m.RenderCluster(nil, chinfra.ClusterTarget{Cluster: cl.Name, Database: cfg.Database})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range stmts {
			if err := conn.Exec(ctx, s); err != nil {
				t.Fatalf("%s again: %v", m.ID(), err)
			}
		}
	}

	// Every node holds the tables, and the history: a migrator connected
	// to the last node applies nothing.
	nodes := map[string]driver.Conn{}
	for _, name := range cl.Nodes {
		c, err := chinfra.Open(ctx, chinfra.Config{Addr: cl.NodeAddr(name), Database: cfg.Database}, nil)
		if err != nil {
			t.Fatalf("open %s: %v", name, err)
		}
		defer c.Close()
		nodes[name] = c
		for table, engine := range map[string]string{"auth_events": "Distributed", "auth_events_local": "ReplicatedReplacingMergeTree",
			"auth_failures_1m": "Distributed", "auth_failures_1m_local": "ReplicatedAggregatingMergeTree",
			"auth_failures_1m_mv": "MaterializedView", "dead_letters_local": "ReplicatedMergeTree", "schema_migrations": "ReplicatedReplacingMergeTree"} {
			var got string
			if err := c.QueryRow(ctx, "SELECT engine FROM system.tables WHERE database = ? AND name = ?", cfg.Database, table).Scan(&got); err != nil || got != engine {
				t.Errorf("%s: %s is %q (err %v), want %s", name, table, got, err, engine)
			}
		}
	}
	last := nodes[cl.Nodes[len(cl.Nodes)-1]]
	waitUint64(ctx, t, last, uint64(len(want)), "SELECT uniqExact(version) FROM schema_migrations")
	if applied, err := chinfra.RunMigrations(ctx, last, chinfra.Config{Database: cfg.Database, Cluster: cl.Name}.Migrate(nil), log); err != nil || len(applied) != 0 {
		t.Fatalf("migrator on %s: applied %v, err %v; want nothing", cl.Nodes[len(cl.Nodes)-1], applied, err)
	}

	// Insert through the BatchWriter, into the Distributed table: n events,
	// each written twice (the second copy as a redelivery, later).
	const n = 2000
	w, err := chinfra.NewBatchWriter(conn, chinfra.BatchConfig{Table: "auth_events", Columns: authColumns, MaxRows: 500}, log)
	if err != nil {
		t.Fatal(err)
	}
	w.Start(ctx)
	now := time.Now().UTC().Truncate(time.Second)
	ids := make([]uuid.UUID, n)
	for copyNo := range 2 {
		errs := make(chan error, n)
		for i := range n {
			if copyNo == 0 {
				ids[i] = uuid.New()
			}
			go func() {
				errs <- w.Write(ctx, authRow(ids[i], fmt.Sprintf("user-%d", i%40), now.Add(-time.Duration(i%120)*time.Second), now.Add(time.Duration(copyNo)*time.Second))...)
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatalf("write: %v", err)
			}
		}
	}
	if err := w.Close(ctx); err != nil {
		t.Fatal(err)
	}

	// Acknowledged means on its shard (insert_distributed_sync): at once,
	// every event is on some replica of its shard. remote() over every
	// node as if each were a shard reads them all, whichever replica took
	// them; reading the Distributed table picks one replica per shard,
	// which may not have fetched its peer's newest parts yet. (Raw row
	// counts are no measure: ReplacingMergeTree merges drop the older copy
	// of an event within seconds.)
	all := "remote('" + strings.Join(cl.Addrs, ",") + "', " + cfg.Database + ".auth_events_local)"
	if got := queryUint64(t, conn, "SELECT uniqExact(event_id) FROM "+all+" WHERE tenant = 'acme'"); got != n {
		t.Fatalf("right after the writes the nodes hold %d distinct events, want %d", got, n)
	}
	// FINAL through the Distributed table: one row per event, the later copy.
	waitUint64(ctx, t, conn, n, "SELECT count() FROM auth_events FINAL WHERE tenant = 'acme'")
	if got := queryUint64(t, conn, "SELECT uniqExact(event_id) FROM auth_events"); got != n {
		t.Errorf("distinct events %d, want %d", got, n)
	}
	// The later copy wins once the replica read has fetched it.
	waitUint64(ctx, t, conn, n, fmt.Sprintf("SELECT count() FROM auth_events FINAL WHERE ingest_time = toDateTime('%s')",
		now.Add(time.Second).Format(time.DateTime)))

	// Both shards hold events, and every event's copies are on one shard:
	// the shards' events add up to the total, and each shard's FINAL view
	// has one row per event.
	var perShard []uint64
	var sum uint64
	for s := 1; s <= 2; s++ {
		c := nodes[fmt.Sprintf("ch-s%dr1", s)]
		waitUint64(ctx, t, c, queryUint64(t, c, "SELECT uniqExact(event_id) FROM auth_events_local"), "SELECT count() FROM auth_events_local FINAL")
		distinct := queryUint64(t, c, "SELECT uniqExact(event_id) FROM auth_events_local")
		if distinct == 0 {
			t.Errorf("shard %d holds no event", s)
		}
		perShard = append(perShard, distinct)
		sum += distinct
	}
	if sum != n {
		t.Errorf("shards hold %v events, %d in all: want %d (an event's copies on two shards would count twice)", perShard, sum, n)
	}
	t.Logf("events per shard %v (sharding key %s)", perShard, chinfra.ShardingKey)

	// The second replica of each shard catches up with the first.
	for s := 1; s <= 2; s++ {
		name := fmt.Sprintf("ch-s%dr2", s)
		waitUint64(ctx, t, nodes[name], perShard[s-1], "SELECT count() FROM auth_events_local FINAL")
	}

	// Rollups: the views ran on each shard, on the replica that took each
	// insert; reading the Distributed table merges the shards' states into
	// the single-server figures: every event once in distinct_events,
	// every delivery in events. (A replica that has not fetched its peer's
	// newest rollup parts counts short for a moment, hence the polls.)
	rollup := `SELECT sum(e) AS failures, sum(d) AS deliveries FROM (
		SELECT uniqMerge(distinct_events) AS e, countMerge(events) AS d FROM auth_failures_1m
		WHERE tenant = 'acme' GROUP BY user_id, source_ip, event_type, minute)`
	waitUint64(ctx, t, conn, n, "SELECT failures FROM ("+rollup+")")
	waitUint64(ctx, t, conn, 2*n, "SELECT deliveries FROM ("+rollup+")")
}

// waitUint64 polls query on conn until it returns want.
func waitUint64(ctx context.Context, t *testing.T, conn driver.Conn, want uint64, query string) {
	t.Helper()
	err := poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var got uint64
		if err := conn.QueryRow(ctx, query).Scan(&got); err != nil {
			return false, err
		}
		if got != want {
			return false, fmt.Errorf("%s = %d, want %d", query, got, want)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
