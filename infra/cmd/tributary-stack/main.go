// Command tributary-stack runs the local stack of real servers:
//
//	tributary-stack up|down|status|env
//	tributary-stack start|stop|kill|restart nats|kafka|clickhouse
//
// With a reachable Docker engine, up and down use infra/compose instead of
// local processes (unless -local); either way the env file is the same.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/tributary-io/tributary/infra/localstack"
)

const usage = `usage: tributary-stack [flags] up|down|status|env|start|stop|kill|restart [server]

Runs NATS JetStream, Apache Kafka (KRaft) and ClickHouse as local
processes (or compose, when Docker answers) and writes their settings to
<dir>/env. Servers: nats, kafka, clickhouse. Exit codes: 0 success,
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
	fs.StringVar(&cfg.JetStreamSync, "jetstream-sync", envOr("TRIBUTARY_JETSTREAM_SYNC", cfg.JetStreamSync), `JetStream fsync: "default" (every 2 min) or "always"`)
	compose := fs.String("compose-file", "infra/compose/docker-compose.yml", "compose file used when Docker is reachable")
	local := fs.Bool("local", false, "use local processes even when Docker is reachable")
	offset := fs.Int("port-offset", 0, "add this to every default port, to run beside another stack")
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
	useCompose := !*local && (args[0] == "up" || args[0] == "down") && localstack.DockerReachable(ctx)
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
	switch args[0] {
	case "up":
		began := time.Now()
		ep, err := stack.Up(ctx)
		if err != nil {
			return err
		}
		log.Info("stack up", "took", time.Since(began).Round(time.Millisecond), "env_file", cfg.EnvFile())
		fmt.Print(ep.Env())
	case "down":
		if err := stack.Down(ctx); err != nil {
			return err
		}
		log.Info("stack down", "dir", cfg.Dir)
	case "status":
		for _, s := range stack.Status() {
			state := "stopped"
			if s.Running {
				state = fmt.Sprintf("running pid %d", s.PID)
			}
			fmt.Printf("%-10s %-18s log %s\n", s.Name, state, s.Log)
		}
	case "env":
		raw, err := os.ReadFile(cfg.EnvFile())
		if err != nil {
			return fmt.Errorf("no env file (run up first): %w", err)
		}
		fmt.Print(string(raw))
	case "start", "stop", "kill", "restart":
		if len(args) != 2 {
			return fmt.Errorf("%w: tributary-stack %s nats|kafka|clickhouse", errUsage, args[0])
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
