package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/localstack"
)

// CHCluster is a private local ClickHouse cluster: one ZooKeeper and 2
// shards × 2 replicas (see localstack.ClickHouseCluster).
type CHCluster struct {
	// Addr lists every node's native host:port, comma-separated, shard-major
	// (the form of -clickhouse-addr); Addrs is the same as a slice.
	Addr  string
	Addrs []string
	// Name is the cluster's name in remote_servers (-clickhouse-cluster).
	Name string
	// Nodes names the nodes in Addrs' order (ch-s1r1, ch-s1r2, …).
	Nodes []string
	// Control starts, stops and kills nodes and ZooKeeper.
	Control *localstack.ClickHouseCluster
}

// PrivateCHCluster starts a ClickHouse cluster for the calling test alone,
// in a fresh /tmp/chcluster-* folder, stopped and removed at cleanup. Its
// ports are the cluster defaults shifted by TRIBUTARY_CHCLUSTER_PORT_OFFSET
// (default 21000: ZooKeeper 23181, native 30101…, HTTP 29201…: below the
// kernel's ephemeral range, 32768–60999, so no outgoing connection can
// hold one), so two runs at once need different offsets. It fails the test, with the reason,
// when the cluster cannot start (no Java, Maven or clickhouse-server, a
// port taken).
func PrivateCHCluster(t testing.TB) *CHCluster {
	t.Helper()
	tools, err := stackDir()
	if err != nil {
		t.Fatalf("testenv: clickhouse cluster: %v", err)
	}
	offset := 21000
	if v := os.Getenv("TRIBUTARY_CHCLUSTER_PORT_OFFSET"); v != "" {
		if offset, err = strconv.Atoi(v); err != nil {
			t.Fatalf("testenv: TRIBUTARY_CHCLUSTER_PORT_OFFSET=%q: %v", v, err)
		}
	}
	dir, err := os.MkdirTemp("", "chcluster-")
	if err != nil {
		t.Fatalf("testenv: clickhouse cluster: %v", err)
	}
	cfg := localstack.DefaultClickHouseClusterConfig().WithPortOffset(offset)
	cfg.Dir, cfg.ToolsDir = dir, tools
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := localstack.NewClickHouseCluster(cfg, log)
	if err != nil {
		t.Fatalf("testenv: clickhouse cluster: %v", err)
	}
	// Registered before Up so a half-started cluster is stopped too.
	t.Cleanup(func() {
		if err := c.Down(context.Background()); err != nil {
			t.Errorf("testenv: stop clickhouse cluster: %v", err)
			return
		}
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	began := time.Now()
	ep, err := c.Up(ctx)
	if err != nil {
		t.Fatalf("testenv: clickhouse cluster: %v", err)
	}
	var rss int64
	var nodes []string
	for _, n := range ep.Nodes {
		rss += n.RSSBytes
		if n.Shard > 0 {
			nodes = append(nodes, n.Name)
		}
	}
	t.Logf("clickhouse cluster %s in %s: ClickHouse %s × %d, ZooKeeper %s; up in %s, RSS %d MiB",
		ep.Cluster, dir, ep.Versions[localstack.ClickHouse], len(ep.Addrs), ep.Versions[localstack.ZooKeeper],
		time.Since(began).Round(time.Millisecond), rss>>20)
	return &CHCluster{Addr: strings.Join(ep.Addrs, ","), Addrs: ep.Addrs, Name: ep.Cluster, Nodes: nodes, Control: c}
}

// NodeAddr is the native address of the named node.
func (c *CHCluster) NodeAddr(name string) string {
	for i, n := range c.Nodes {
		if n == name {
			return c.Addrs[i]
		}
	}
	panic(fmt.Sprintf("testenv: no node %q in %v", name, c.Nodes))
}
