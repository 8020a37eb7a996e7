package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/localstack"
)

// Private starts servers for the calling test alone: a local stack on free
// ports in a temporary folder, stopped at cleanup. Fault tests use it to
// kill and restart servers without disturbing tests that share Get's. It
// always runs local processes (Java, Maven and a ClickHouse binary are
// needed, as for `make up`); it fails the test, with the reason, otherwise.
func Private(t testing.TB) *Env {
	t.Helper()
	tools, err := stackDir()
	if err != nil {
		t.Fatalf("testenv: private stack: %v", err)
	}
	ports, err := freePorts(6)
	if err != nil {
		t.Fatalf("testenv: private stack: %v", err)
	}
	cfg := localstack.DefaultConfig()
	cfg.Dir = t.TempDir()
	cfg.ToolsDir = tools
	cfg.NATSPort, cfg.NATSMonitorPort = ports[0], ports[1]
	cfg.KafkaPort, cfg.KafkaControllerPort = ports[2], ports[3]
	cfg.ClickHouseTCPPort, cfg.ClickHouseHTTPPort = ports[4], ports[5]
	cfg.KafkaHeap = "512m"
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := localstack.New(cfg, log)
	if err != nil {
		t.Fatalf("testenv: private stack: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Registered before Up so a half-started stack is stopped too.
	t.Cleanup(func() {
		if err := stack.Down(context.Background()); err != nil {
			t.Errorf("testenv: stop private stack: %v", err)
		}
	})
	ep, err := stack.Up(ctx)
	if err != nil {
		t.Fatalf("testenv: private stack: %v", err)
	}
	t.Logf("private stack in %s: nats-server %s, Apache Kafka %s, ClickHouse %s", cfg.Dir,
		ep.Versions[localstack.NATS], ep.Versions[localstack.Kafka], ep.Versions[localstack.ClickHouse])
	return stackEnv(ep, "private localstack "+cfg.Dir, stack)
}

// freePorts asks the kernel for n distinct free ports; they are released
// before the servers bind them, a race the loopback-only test run accepts.
func freePorts(n int) ([]int, error) {
	ports := make([]int, 0, n)
	seen := map[int]bool{}
	for len(ports) < n {
		p, err := freePort()
		if err != nil {
			return nil, err
		}
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	if len(ports) != n {
		return nil, fmt.Errorf("found %d free ports, want %d", len(ports), n)
	}
	return ports, nil
}

// NATSServerBinary returns the pinned nats-server the local stack uses
// (installed into .tributary/bin if missing), or fails t saying why.
func NATSServerBinary(t testing.TB) string {
	t.Helper()
	tools, err := stackDir()
	if err != nil {
		t.Fatalf("testenv: nats-server: %v", err)
	}
	cfg := localstack.DefaultConfig()
	cfg.ToolsDir = tools
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := localstack.NATSServerBinary(ctx, cfg)
	if err != nil {
		t.Fatalf("testenv: nats-server: %v", err)
	}
	return bin
}
