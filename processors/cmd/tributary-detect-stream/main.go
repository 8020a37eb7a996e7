// Command tributary-detect-stream runs the streaming anomaly detectors:
// auth and task events from JetStream, telemetry from Kafka, anomalies out
// through the routing table. Every setting is a flag, also read from its
// TRIBUTARY_* variable and from a YAML file (-config), as for every binary
// (package cli); -h prints them and exits 0; "validate" checks them without
// connecting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tributary-io/tributary/infra/cli"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/processors/service"
)

const usage = `usage: tributary-detect-stream [flags]
       tributary-detect-stream validate [settings.yaml] [flags]   (check the settings without connecting)

Runs the streaming detectors (auth, task, telemetry) as consumer groups
and publishes what they find as anomaly events. Every flag can also be set
by its variable (-nats-url: TRIBUTARY_NATS_URL) or as a key of the -config
YAML file; flags beat variables, variables beat the file. Exit codes: 0
stopped by SIGTERM/SIGINT or -h, 1 a runtime failure, 2 bad usage.

flags:
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, service.RunDetectors))
}

// runner is service.RunDetectors; a test gives another.
type runner func(ctx context.Context, cfg service.Config, log *slog.Logger, ready chan<- struct{}) error

func run(ctx context.Context, args []string, stdout, stderr io.Writer, start runner) int {
	var cfg service.Config
	fs := flag.NewFlagSet("tributary-detect-stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.NATSURL, "nats-url", "nats://127.0.0.1:4222", "NATS URL (TRIBUTARY_NATS_URL)")
	fs.IntVar(&cfg.Provision.Replicas, "replicas", 0, "copies of every stream and topic partition when provisioning creates them: 1 single-node, 3 on a cluster (env TRIBUTARY_REPLICAS; a -cluster local stack's env file sets it)")
	brokers := fs.String("kafka-brokers", "127.0.0.1:9092", "Kafka brokers, comma-separated (TRIBUTARY_KAFKA_BROKERS)")
	fs.StringVar(&cfg.Group, "group", "", "consumer group / durable prefix (TRIBUTARY_GROUP; default detect)")
	fs.StringVar(&cfg.StartFrom, "start-from", "", "where a new group starts: earliest (TRIBUTARY_START_FROM; latest is for tests and refused)")
	fs.StringVar(&cfg.HTTPAddr, "http", "", "serve /metrics, /healthz, /readyz and /debug/pprof on this address (TRIBUTARY_HTTP)")
	fs.StringVar(&cfg.Tracing.Endpoint, "otlp-endpoint", "", "export traces by OTLP/HTTP to this host:port or URL (TRIBUTARY_OTLP_ENDPOINT)")
	fs.BoolVar(&cfg.Tracing.Insecure, "otlp-insecure", false, "plain HTTP to the OTLP endpoint (TRIBUTARY_OTLP_INSECURE=true)")
	var natsSec secure.NATS
	var kafkaSec secure.Kafka
	secure.RegisterNATS(fs, os.Getenv, &natsSec)
	secure.RegisterKafka(fs, os.Getenv, &kafkaSec)
	var logCfg observe.LogConfig
	fs.StringVar(&logCfg.Level, "log-level", "info", "debug, info, warn or error (TRIBUTARY_LOG_LEVEL)")
	fs.StringVar(&logCfg.Format, "log-format", "text", "text or json (TRIBUTARY_LOG_FORMAT)")
	validate, err := cli.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return cli.ExitUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tributary-detect-stream: unexpected argument %q (settings are flags; -h lists them)\n", fs.Arg(0))
		return cli.ExitUsage
	}
	cfg.KafkaBrokers = strings.Split(*brokers, ",")
	opts, err := natsSec.Options()
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return cli.ExitUsage
	}
	cfg.NATSOptions = opts
	if cfg.KafkaSecurity, err = kafkaSec.Security(); err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return cli.ExitUsage
	}
	log, err := observe.NewLogger(stderr, logCfg)
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return cli.ExitUsage
	}
	if err := cfg.WithDefaults().Validate(); err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return cli.ExitUsage
	}
	if validate {
		fmt.Fprintln(stdout, "tributary-detect-stream: settings are valid")
		return cli.ExitOK
	}
	if err := start(ctx, cfg, log, nil); err != nil {
		log.Error("tributary-detect-stream", "err", err)
		return cli.ExitFailure
	}
	return cli.ExitOK
}
