package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/localstack"
)

// ClusterPortOffsetVar overrides the port offset of PrivateCluster's stack.
const ClusterPortOffsetVar = "TRIBUTARY_CLUSTER_TEST_PORT_OFFSET"

// DefaultClusterPortOffset places PrivateCluster's ports (the default
// ones + 22000, each node 10 further) away from `make up`'s and below the
// kernel's ephemeral range (32768–60999), so no outgoing connection can
// hold one when a node starts.
const DefaultClusterPortOffset = 22000

// PrivateCluster starts a clustered local stack for the calling test alone
// (localstack.Config.Cluster: 3 NATS JetStream nodes, 3 Kafka KRaft
// nodes, one ClickHouse) in a fresh folder under /tmp, and stops and
// deletes it at cleanup. Its servers are named nats-1…3, kafka-1…3 and
// clickhouse; Env.Replicas is 3. A cluster's node ports are fixed by
// the offset (ClusterPortOffsetVar, default 22000), so two such tests
// cannot run at once; a port already taken fails the test saying which.
func PrivateCluster(t testing.TB) *Env {
	t.Helper()
	tools, err := stackDir()
	if err != nil {
		t.Fatalf("testenv: private cluster: %v", err)
	}
	offset := DefaultClusterPortOffset
	if v := os.Getenv(ClusterPortOffsetVar); v != "" {
		if offset, err = strconv.Atoi(v); err != nil {
			t.Fatalf("testenv: %s=%q: %v", ClusterPortOffsetVar, v, err)
		}
	}
	dir, err := os.MkdirTemp("", "cluster-test-")
	if err != nil {
		t.Fatalf("testenv: private cluster: %v", err)
	}
	cfg := localstack.DefaultConfig().WithPortOffset(offset)
	cfg.Cluster = true
	cfg.Dir = dir
	cfg.ToolsDir = tools
	cfg.KafkaHeap = "512m"
	cfg.ReadyTimeout = 3 * time.Minute // six servers start at once on two cores
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := localstack.New(cfg, log)
	if err != nil {
		t.Fatalf("testenv: private cluster: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Registered before Up so a half-started cluster is stopped too.
	t.Cleanup(func() {
		if err := stack.Down(context.Background()); err != nil {
			t.Errorf("testenv: stop private cluster: %v", err)
			return
		}
		if !t.Failed() {
			_ = os.RemoveAll(dir)
		}
	})
	began := time.Now()
	ep, err := stack.Up(ctx)
	if err != nil {
		t.Fatalf("testenv: private cluster (port offset %d, %s): %v", offset, ClusterPortOffsetVar, err)
	}
	var rss int64
	for _, s := range stack.Status() {
		rss += s.RSSKiB
	}
	t.Logf("private cluster in %s up in %s, %d MiB resident: nats-server %s ×%d, Apache Kafka %s ×%d, ClickHouse %s",
		dir, time.Since(began).Round(time.Millisecond), rss>>10, ep.Versions[localstack.NATS], localstack.ClusterSize,
		ep.Versions[localstack.Kafka], localstack.ClusterSize, ep.Versions[localstack.ClickHouse])
	return stackEnv(ep, fmt.Sprintf("private cluster %s", dir), stack)
}
