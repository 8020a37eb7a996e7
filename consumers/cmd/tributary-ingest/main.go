// Command tributary-ingest runs the ingest consumer groups: auth and task
// events from JetStream, telemetry and anomalies from Kafka, and every
// dead-letter destination, into ClickHouse. Settings come from the
// TRIBUTARY_* variables the local stack writes (.tributary/env), a YAML
// settings file (-config) or flags; "tributary-ingest validate" checks them
// without connecting.
//
// SIGTERM or SIGINT drains: in-flight batches are inserted and acked, then
// it exits 0 within -shutdown-timeout. Stats (rows, batches, flush latency,
// buffer fill, retries, handled/failed/poisoned, RSS) are logged every
// -stats-interval and, with -http, served as JSON on /debug/ingest.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"
	"time"

	"github.com/tributary-io/tributary/consumers/service"
	"github.com/tributary-io/tributary/infra/cli"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/schemas"
)

func main() {
	cfg, logCfg, validate, err := load(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(cli.ExitOK)
	}
	var log *slog.Logger
	if err == nil {
		log, err = observe.NewLogger(os.Stderr, logCfg)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-ingest:", err)
		os.Exit(cli.ExitUsage)
	}
	if validate {
		fmt.Println("tributary-ingest: settings are valid")
		os.Exit(cli.ExitOK)
	}
	applyMemoryLimit(cfg.MemoryLimitMiB, os.Getenv("GOMEMLIMIT"), log)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, log); err != nil {
		log.Error("tributary-ingest stopped", "err", err)
		os.Exit(cli.ExitFailure)
	}
	log.Info("tributary-ingest: drained, exiting")
}

// defaultMemoryLimitMiB keeps make bench-ingest's Kafka job, whose
// default windows hold ~90 MiB live, under 200 MiB of RSS (182 MiB
// measured at 170) at the speed it has without a limit.
const defaultMemoryLimitMiB = 180

// applyMemoryLimit sets the heap's soft limit: mib when positive, none
// when -1, else the default unless GOMEMLIMIT already set one (the
// runtime has read it). Process-wide, so the command sets it, not the
// service.
func applyMemoryLimit(mib int, env string, log *slog.Logger) {
	switch {
	case mib == -1:
		debug.SetMemoryLimit(math.MaxInt64)
	case mib > 0:
		debug.SetMemoryLimit(int64(mib) << 20)
	case env == "":
		mib = defaultMemoryLimitMiB
		debug.SetMemoryLimit(int64(mib) << 20)
	default:
		log.Info("memory limit from GOMEMLIMIT", "GOMEMLIMIT", env)
		return
	}
	log.Info("memory limit", "soft_limit_mib", mib)
}

// run is RunIngest with a watchdog: the drain is bounded by
// ShutdownTimeout inside RunIngest, and should anything still hang (a
// broker client that ignores its context), the process fails loudly
// instead of outliving its orchestrator's grace period.
func run(ctx context.Context, cfg service.IngestConfig, log *slog.Logger) error {
	done := make(chan error, 1)
	go func() { done <- service.RunIngest(ctx, cfg, log, nil) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	grace := cfg.ShutdownTimeout + 5*time.Second
	log.Info("tributary-ingest: shutting down", "timeout", cfg.ShutdownTimeout)
	select {
	case err := <-done:
		return err
	case <-time.After(grace):
		return fmt.Errorf("shutdown did not finish within %s", grace)
	}
}

func load(args []string) (cfg service.IngestConfig, logCfg observe.LogConfig, validate bool, err error) {
	fs := flag.NewFlagSet("tributary-ingest", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: tributary-ingest [flags]
       tributary-ingest validate [settings.yaml] [flags]   (check the settings without connecting)

Every flag can also be set by its variable (-clickhouse-addr:
TRIBUTARY_CLICKHOUSE_ADDR) or by its name as a key of the -config YAML
file; flags beat variables, variables beat the file. Exit codes: 0
drained after SIGTERM/SIGINT, 1 a runtime failure, 2 bad settings.

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.NATSURL, "nats-url", "", "NATS URL (env TRIBUTARY_NATS_URL)")
	brokers := fs.String("kafka-brokers", "", "Kafka brokers, comma-separated (env TRIBUTARY_KAFKA_BROKERS)")
	fs.StringVar(&cfg.ClickHouse.Addr, "clickhouse-addr", "", "ClickHouse native host:port (env TRIBUTARY_CLICKHOUSE_ADDR)")
	fs.StringVar(&cfg.ClickHouse.Database, "clickhouse-database", "tributary", "ClickHouse database (env TRIBUTARY_CLICKHOUSE_DATABASE)")
	fs.IntVar(&cfg.Provision.Replicas, "replicas", 0, "copies of every stream and topic partition when provisioning creates them: 1 single-node, 3 on a cluster (env TRIBUTARY_REPLICAS; a -cluster local stack's env file sets it)")
	fs.StringVar(&cfg.ClickHouse.Cluster, "clickhouse-cluster", "", "ClickHouse cluster (remote_servers name): create the schema's cluster form and insert into its Distributed tables; empty: one server (env TRIBUTARY_CLICKHOUSE_CLUSTER)")
	fs.StringVar(&cfg.Group, "group", "ingest", "consumer group / durable name prefix; instances with the same group share the work")
	fs.IntVar(&cfg.BatchRows, "batch-rows", 0, "most rows per ClickHouse insert (default 20000)")
	fs.IntVar(&cfg.InFlight, "in-flight", 0, "un-acked messages per Kafka topic, split over its partitions (default 1.4×batch-rows)")
	fs.IntVar(&cfg.JetStreamInFlight, "jetstream-in-flight", 0, "un-acked messages per JetStream durable, across instances (default 5000, or -in-flight when set)")
	fs.IntVar(&cfg.BufferRows, "buffer-rows", 0, "rows one table's writer may hold before consumption pauses (default 20000)")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", 0, "longest a row waits for its batch (default 400ms)")
	fs.IntVar(&cfg.MemoryLimitMiB, "memory-limit-mib", 0, "soft limit of the Go heap in MiB: near it the collector works harder instead of growing the heap; raise it with the windows (default 180, or GOMEMLIMIT when set; -1: none)")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 0, "bound on the drain after SIGTERM (default 30s)")
	fs.DurationVar(&cfg.StatsInterval, "stats-interval", 0, "how often to log ingest stats; negative: never (default 30s)")
	fs.StringVar(&cfg.HTTPAddr, "http", "", "serve /metrics, /healthz, /readyz and /debug/ingest on this address, e.g. 127.0.0.1:9464 (env TRIBUTARY_HTTP)")
	fs.BoolVar(&cfg.ProfileContention, "profile-contention", false, "with -http: also serve the block and mutex profiles and /debug/pprof/trace (costs a little on every wait)")
	fs.BoolVar(&cfg.ClickHouse.Compress, "clickhouse-compress", false, "LZ4-compress insert blocks on the wire (env TRIBUTARY_CLICKHOUSE_COMPRESS=true)")
	fs.StringVar(&cfg.Tracing.Endpoint, "otlp-endpoint", "", "export traces by OTLP/HTTP to this host:port or URL; empty: no tracing (env TRIBUTARY_OTLP_ENDPOINT)")
	fs.BoolVar(&cfg.Tracing.Insecure, "otlp-insecure", false, "plain HTTP to the OTLP endpoint (env TRIBUTARY_OTLP_INSECURE=true)")
	fs.StringVar(&cfg.StartFrom, "start-from", "", "where a new group starts: earliest (default); latest is for tests only and refused here")
	fs.DurationVar(&cfg.KafkaSessionTimeout, "kafka-session-timeout", 0, "how long a crashed instance keeps its Kafka partitions (default 10s)")
	fs.DurationVar(&cfg.AckWait, "ack-wait", 0, "how long a crashed instance keeps its un-acked JetStream messages (default 10s)")
	fs.IntVar(&cfg.PoisonMaxDeliveries, "poison-max-deliveries", 0, "deliveries of a poison message whose dead-letter publish keeps failing before it is stored in dead_letters directly (default 5)")
	fs.IntVar(&cfg.EventRetentionDays, "event-retention-days", 0, "days a current ClickHouse keeps event rows, set when the retention migration is applied; 18.16 has no TTL (default 30)")
	fs.IntVar(&cfg.AnomalyRetentionDays, "anomaly-retention-days", 0, "days a current ClickHouse keeps anomalies (default 180)")
	fs.StringVar(&logCfg.Level, "log-level", "info", "debug, info, warn or error (env TRIBUTARY_LOG_LEVEL)")
	fs.StringVar(&logCfg.Format, "log-format", "text", "text or json (env TRIBUTARY_LOG_FORMAT)")
	maxEvent := fs.Int("max-event-size", 0, "largest event accepted, bytes; larger ones are dead-lettered (default 1 MiB)")
	var natsSec secure.NATS
	var chSec secure.ClickHouse
	var kafkaSec secure.Kafka
	secure.RegisterNATS(fs, os.Getenv, &natsSec)
	secure.RegisterKafka(fs, os.Getenv, &kafkaSec)
	secure.RegisterClickHouse(fs, os.Getenv, &chSec)
	if validate, err = cli.Parse(fs, args); err != nil {
		return cfg, logCfg, validate, err
	}
	if fs.NArg() > 0 {
		return cfg, logCfg, validate, fmt.Errorf("unexpected argument %q (settings are flags; -h lists them)", fs.Arg(0))
	}
	opts, err := natsSec.Options()
	if err != nil {
		return cfg, logCfg, validate, err
	}
	cfg.NATSOptions = opts
	if cfg.KafkaSecurity, err = kafkaSec.Security(); err != nil {
		return cfg, logCfg, validate, err
	}
	if err := chSec.Apply(&cfg.ClickHouse); err != nil {
		return cfg, logCfg, validate, err
	}
	if *maxEvent > 0 {
		cfg.Limits = schemas.DefaultLimits()
		cfg.Limits.MaxEventSize = *maxEvent
		cfg.Limits.MaxTextLen = min(cfg.Limits.MaxTextLen, *maxEvent)
		cfg.Limits.MaxStringLen = min(cfg.Limits.MaxStringLen, cfg.Limits.MaxTextLen)
	}
	if *brokers != "" {
		cfg.KafkaBrokers = strings.Split(*brokers, ",")
	}
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return cfg, logCfg, validate, err
	}
	// The logger's settings too, so validate catches a bad level.
	_, err = observe.NewLogger(io.Discard, logCfg)
	return cfg, logCfg, validate, err
}
