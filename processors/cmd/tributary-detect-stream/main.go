// Command tributary-detect-stream runs the streaming anomaly detectors:
// auth and task events from JetStream, telemetry from Kafka, anomalies out
// through the routing table. Every setting is a flag whose default comes
// from a TRIBUTARY_* variable; -h prints them and exits 0.
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

	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/processors/service"
)

const usage = `usage: tributary-detect-stream [flags]

Runs the streaming detectors (auth, task, telemetry) as consumer groups
and publishes what they find as anomaly events. Exit codes: 0 stopped by
SIGTERM/SIGINT or -h, 1 a runtime failure, 2 bad usage.

flags (each defaults to the variable named):
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Getenv, os.Stderr, service.RunDetectors))
}

// runner is service.RunDetectors; a test gives another.
type runner func(ctx context.Context, cfg service.Config, log *slog.Logger, ready chan<- struct{}) error

func run(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer, start runner) int {
	env := func(k, def string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return def
	}
	var cfg service.Config
	fs := flag.NewFlagSet("tributary-detect-stream", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.NATSURL, "nats", env("TRIBUTARY_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL (TRIBUTARY_NATS_URL)")
	brokers := fs.String("kafka", env("TRIBUTARY_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka brokers, comma-separated (TRIBUTARY_KAFKA_BROKERS)")
	fs.StringVar(&cfg.Group, "group", getenv("TRIBUTARY_DETECT_GROUP"), "consumer group / durable prefix (TRIBUTARY_DETECT_GROUP; default detect)")
	fs.StringVar(&cfg.StartFrom, "start-from", getenv("TRIBUTARY_DETECT_START_FROM"), "where a new group starts: earliest (TRIBUTARY_DETECT_START_FROM; latest is for tests and refused)")
	fs.StringVar(&cfg.HTTPAddr, "http", getenv("TRIBUTARY_DETECT_HTTP"), "serve /metrics, /healthz, /readyz and /debug/pprof on this address (TRIBUTARY_DETECT_HTTP)")
	fs.StringVar(&cfg.Tracing.Endpoint, "otlp-endpoint", getenv("TRIBUTARY_OTLP_ENDPOINT"), "export traces by OTLP/HTTP to this host:port or URL (TRIBUTARY_OTLP_ENDPOINT)")
	fs.BoolVar(&cfg.Tracing.Insecure, "otlp-insecure", getenv("TRIBUTARY_OTLP_INSECURE") == "true", "plain HTTP to the OTLP endpoint (TRIBUTARY_OTLP_INSECURE=true)")
	var natsSec secure.NATS
	var kafkaSec secure.Kafka
	secure.RegisterNATS(fs, getenv, &natsSec)
	secure.RegisterKafka(fs, getenv, &kafkaSec)
	var logCfg observe.LogConfig
	fs.StringVar(&logCfg.Level, "log-level", env("TRIBUTARY_LOG_LEVEL", "info"), "debug, info, warn or error (TRIBUTARY_LOG_LEVEL)")
	fs.StringVar(&logCfg.Format, "log-format", env("TRIBUTARY_LOG_FORMAT", "text"), "text or json (TRIBUTARY_LOG_FORMAT)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "tributary-detect-stream: unexpected argument %q (settings are flags; -h lists them)\n", fs.Arg(0))
		return 2
	}
	cfg.KafkaBrokers = strings.Split(*brokers, ",")
	opts, err := natsSec.Options()
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return 2
	}
	cfg.NATSOptions = opts
	if cfg.KafkaSecurity, err = kafkaSec.Security(); err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return 2
	}
	log, err := observe.NewLogger(stderr, logCfg)
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect-stream:", err)
		return 2
	}
	if err := start(ctx, cfg, log, nil); err != nil {
		log.Error("tributary-detect-stream", "err", err)
		return 1
	}
	return 0
}
