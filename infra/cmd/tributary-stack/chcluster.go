package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tributary-io/tributary/infra/localstack"
)

// runCHCluster is tributary-stack -ch-cluster: the same commands, on a
// local ClickHouse cluster in <dir>/chcluster. It never touches the
// default stack, whose NATS and Kafka the cluster's clients still use.
func runCHCluster(ctx context.Context, dir string, offset int, args []string, log *slog.Logger) error {
	cfg := localstack.DefaultClickHouseClusterConfig().WithPortOffset(offset)
	cfg.Dir = filepath.Join(dir, "chcluster")
	cfg.ToolsDir = dir
	c, err := localstack.NewClickHouseCluster(cfg, log)
	if err != nil {
		return err
	}
	switch args[0] {
	case "up":
		began := time.Now()
		ep, err := c.Up(ctx)
		if err != nil {
			return err
		}
		took := time.Since(began).Round(time.Millisecond)
		var total int64
		for _, n := range ep.Nodes {
			total += n.RSSBytes
			log.Info("member", "name", n.Name, "addr", n.Addr, "pid", n.PID, "rss_mib", n.RSSBytes>>20)
		}
		log.Info("ch-cluster up", "took", took, "rss_mib", total>>20, "env_file", c.Config().EnvFile())
		fmt.Print(ep.Env())
	case "down":
		if err := c.Down(ctx); err != nil {
			return err
		}
		log.Info("ch-cluster down", "dir", cfg.Dir)
	case "status":
		for _, s := range c.Status() {
			state := "stopped"
			if s.Running {
				state = fmt.Sprintf("running pid %d", s.PID)
			}
			fmt.Printf("%-10s %-18s log %s\n", s.Name, state, s.Log)
		}
	case "env":
		raw, err := os.ReadFile(cfg.EnvFile())
		if err != nil {
			return fmt.Errorf("no env file (run -ch-cluster up first): %w", err)
		}
		fmt.Print(string(raw))
	case "start", "stop", "kill":
		if len(args) != 2 {
			return fmt.Errorf("%w: tributary-stack -ch-cluster %s zookeeper|%s|…", errUsage, args[0], localstack.ReplicaName(1, 1))
		}
		switch args[0] {
		case "start":
			return c.Start(ctx, args[1])
		case "stop":
			return c.Stop(args[1])
		default:
			return c.Kill(args[1])
		}
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	return nil
}

// clusterCH is the ClickHouse cluster that -cluster runs beside its NATS
// and Kafka nodes, in <dir>/chcluster, on ports clear of theirs (Kafka's
// second node listens on 9102, inside the standalone cluster's 9101…).
func clusterCH(cfg localstack.Config, offset int, log *slog.Logger) (*localstack.ClickHouseCluster, error) {
	c := localstack.DefaultClickHouseClusterConfig()
	c.TCPPort, c.HTTPPort, c.InterserverPort = 9301, 8301, 9401
	c = c.WithPortOffset(offset)
	c.Dir = filepath.Join(cfg.Dir, "chcluster")
	c.ToolsDir = cfg.ToolsDir
	if c.ToolsDir == "" {
		c.ToolsDir = cfg.Dir
	}
	return localstack.NewClickHouseCluster(c, log)
}

// upWithCH brings the ClickHouse cluster up after the NATS and Kafka
// nodes and points the stack's env file at it: every node's native
// address, its cluster name (ingest then applies the cluster form of the
// migrations and inserts into the Distributed tables) and ZooKeeper.
func upWithCH(ctx context.Context, ch *localstack.ClickHouseCluster, envFile string, ep localstack.Endpoints) (localstack.Endpoints, error) {
	chEp, err := ch.Up(ctx)
	if err != nil {
		return ep, fmt.Errorf("clickhouse cluster: %w", err)
	}
	ep.ClickHouseAddr = strings.Join(chEp.Addrs, ",")
	ep.ClickHouseHTTP = chEp.HTTP
	if ep.Extra == nil {
		ep.Extra = map[string]string{}
	}
	ep.Extra["TRIBUTARY_CLICKHOUSE_CLUSTER"] = chEp.Cluster
	ep.Extra["TRIBUTARY_ZOOKEEPER"] = chEp.ZooKeeper
	for k, v := range chEp.Versions {
		ep.Versions[k] = v
	}
	return ep, localstack.WriteEnvFile(envFile, ep)
}
