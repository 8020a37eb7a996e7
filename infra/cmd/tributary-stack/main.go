// Command tributary-stack runs the local stack of real servers:
//
//	tributary-stack up|down|status|env
//	tributary-stack start|stop|kill|restart nats|kafka|clickhouse
//
// With a reachable Docker engine, up and down use infra/compose instead of
// local processes (unless -local or -secure); either way the env file is
// the same. -secure runs the servers with TLS, users and permissions
// (README "Securing a deployment").
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/tributary-io/tributary/infra/localstack"
)

const usage = `usage: tributary-stack [flags] up|down|status|env|start|stop|kill|restart [server]

Runs NATS JetStream, Apache Kafka (KRaft) and ClickHouse as local
processes (or compose, when Docker answers) and writes their settings to
<dir>/env. Servers: nats, kafka, clickhouse; with -cluster nats-1…3,
kafka-1…3 and clickhouse. Exit codes: 0 success,
1 a server failed, 2 bad usage.

flags:
`

// errUsage marks a command line the tool cannot act on (exit code 2).
var errUsage = errors.New("usage: tributary-stack [flags] up|down|status|env|start|stop|kill|restart [server] (-h for help)")

func main() {
	err := run()
	switch {
	case err == nil:
	case errors.Is(err, flag.ErrHelp):
	case errors.Is(err, errUsage):
		fmt.Fprintln(os.Stderr, "tributary-stack:", err)
		os.Exit(2)
	default:
		fmt.Fprintln(os.Stderr, "tributary-stack:", err)
		os.Exit(1)
	}
}

func run() error {
	cfg := localstack.DefaultConfig()
	fs := flag.NewFlagSet("tributary-stack", flag.ContinueOnError)
	fs.StringVar(&cfg.Dir, "dir", envOr("TRIBUTARY_STACK_DIR", cfg.Dir), "state folder (env TRIBUTARY_STACK_DIR)")
	fs.StringVar(&cfg.ToolsDir, "tools-dir", envOr("TRIBUTARY_STACK_TOOLS_DIR", ""), "folder of the installed tools (nats-server, Kafka's classpath), shared between stacks; empty: the state folder (env TRIBUTARY_STACK_TOOLS_DIR)")
	fs.StringVar(&cfg.JetStreamSync, "jetstream-sync", envOr("TRIBUTARY_JETSTREAM_SYNC", cfg.JetStreamSync), `JetStream fsync: "default" (every 2 min) or "always"`)
	compose := fs.String("compose-file", "infra/compose/docker-compose.yml", "compose file used when Docker is reachable")
	local := fs.Bool("local", false, "use local processes even when Docker is reachable")
	offset := fs.Int("port-offset", 0, "add this to every default port, to run beside another stack")
	fs.BoolVar(&cfg.Cluster, "cluster", false, "3 NATS JetStream nodes and 3 Kafka KRaft nodes (replication 3, min.insync.replicas 2) instead of one each, and a ClickHouse cluster (ZooKeeper, 2 shards × 2 replicas on ports 9301…, in <dir>/chcluster) that the env file points at. Node k's ports are each base port + 10×(k-1); servers are named nats-1…3, kafka-1…3")
	heap := fs.String("kafka-heap", "", "JVM heap of each Kafka process (default 1g, 512m with -cluster)")
	fs.BoolVar(&cfg.Secure, "secure", false, "TLS from a local CA, users and permissions on every server (env files <dir>/env as admin, <dir>/env.<user> per identity); a folder is either secure or open")
	tenants := fs.String("tenants", strings.Join(cfg.Tenants, ","), "tenants that get a producer identity (tenant-<name>) on a secure stack, comma-separated")
	chCluster := fs.Bool("ch-cluster", false, "act on a local ClickHouse cluster (ZooKeeper + 2 shards × 2 replicas, in <dir>/chcluster) instead of the stack")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg = cfg.WithPortOffset(*offset)
	if cfg.Cluster {
		cfg.KafkaHeap = "512m"
	}
	if *heap != "" {
		cfg.KafkaHeap = *heap
	}
	cfg.Tenants = strings.Split(*tenants, ",")
	args := fs.Args()
	if len(args) == 0 {
		return errUsage
	}
	if args[0] == "help" {
		fs.Usage()
		return flag.ErrHelp
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))

	if *chCluster {
		return runCHCluster(ctx, cfg.Dir, *offset, args, log)
	}
	useCompose := !*local && !cfg.Cluster && !cfg.Secure && (args[0] == "up" || args[0] == "down") && localstack.DockerReachable(ctx)
	if useCompose {
		c, err := localstack.NewCompose(*compose, cfg)
		if err != nil {
			return err
		}
		if args[0] == "down" {
			return c.Down(ctx)
		}
		ep, err := c.Up(ctx)
		if err != nil {
			return err
		}
		fmt.Print(ep.Env())
		return nil
	}

	stack, err := localstack.New(cfg, log)
	if err != nil {
		return err
	}
	// A cluster is all three servers clustered: the ClickHouse one runs
	// beside the NATS and Kafka nodes and goes up and down with them.
	var ch *localstack.ClickHouseCluster
	// A plain down also stops a cluster's ClickHouse nodes, as it stops its
	// NATS and Kafka nodes: no server is left behind whichever flags ran up.
	_, chErr := os.Stat(filepath.Join(cfg.Dir, "chcluster"))
	if cfg.Cluster || (args[0] == "down" && chErr == nil) {
		if ch, err = clusterCH(cfg, *offset, log); err != nil {
			return err
		}
	}
	switch args[0] {
	case "up":
		began := time.Now()
		ep, err := stack.Up(ctx)
		if err != nil {
			return err
		}
		var rss int64
		if ch != nil {
			if ep, err = upWithCH(ctx, ch, cfg.EnvFile(), ep); err != nil {
				return err
			}
			for _, s := range ch.Status() {
				rss += s.RSSKiB
			}
		}
		took := time.Since(began).Round(time.Millisecond)
		for _, s := range stack.Status() {
			rss += s.RSSKiB
		}
		log.Info("stack up", "took", took, "rss_mib", rss>>10, "cluster", cfg.Cluster, "env_file", cfg.EnvFile())
		fmt.Print(ep.Env())
	case "down":
		if ch != nil {
			if err := ch.Down(ctx); err != nil {
				return err
			}
		}
		if err := stack.Down(ctx); err != nil {
			return err
		}
		log.Info("stack down", "dir", cfg.Dir)
	case "status":
		var total int64
		all := stack.Status()
		if ch != nil {
			all = append(all, ch.Status()...)
		}
		for _, s := range all {
			state := "stopped"
			if s.Running {
				state = fmt.Sprintf("running pid %d", s.PID)
			}
			fmt.Printf("%-10s %-18s rss %5d MiB  log %s\n", s.Name, state, s.RSSKiB>>10, s.Log)
			total += s.RSSKiB
		}
		fmt.Printf("%-10s %-18s rss %5d MiB\n", "total", "", total>>10)
	case "env":
		raw, err := os.ReadFile(cfg.EnvFile())
		if err != nil {
			return fmt.Errorf("no env file (run up first): %w", err)
		}
		fmt.Print(string(raw))
	case "start", "stop", "kill", "restart":
		if len(args) != 2 {
			return fmt.Errorf("%w: tributary-stack %s nats|kafka|clickhouse (with -cluster: nats-1…3, kafka-1…3, clickhouse)", errUsage, args[0])
		}
		switch args[0] {
		case "start":
			return stack.Start(ctx, args[1])
		case "stop":
			return stack.Stop(args[1])
		case "kill":
			return stack.Kill(args[1])
		default:
			return stack.Restart(ctx, args[1])
		}
	default:
		return fmt.Errorf("%w: unknown command %q", errUsage, args[0])
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
