// Command tributary-ingest runs the ingest consumer groups: auth events from
// JetStream and metrics from Kafka into ClickHouse. Settings come from the
// TRIBUTARY_* variables the local stack writes (.tributary/env), or flags.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/tributary-io/tributary/consumers/service"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := load(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-ingest:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := service.RunIngest(ctx, cfg, log, nil); err != nil {
		log.Error("tributary-ingest stopped", "err", err)
		os.Exit(1)
	}
}

func load(args []string) (service.IngestConfig, error) {
	var cfg service.IngestConfig
	fs := flag.NewFlagSet("tributary-ingest", flag.ContinueOnError)
	fs.StringVar(&cfg.NATSURL, "nats", os.Getenv("TRIBUTARY_NATS_URL"), "NATS URL (env TRIBUTARY_NATS_URL)")
	brokers := fs.String("kafka", os.Getenv("TRIBUTARY_KAFKA_BROKERS"), "Kafka brokers, comma-separated (env TRIBUTARY_KAFKA_BROKERS)")
	fs.StringVar(&cfg.ClickHouse.Addr, "clickhouse", os.Getenv("TRIBUTARY_CLICKHOUSE_ADDR"), "ClickHouse native host:port (env TRIBUTARY_CLICKHOUSE_ADDR)")
	fs.StringVar(&cfg.ClickHouse.Database, "database", envOr("TRIBUTARY_CLICKHOUSE_DATABASE", "tributary"), "ClickHouse database (env TRIBUTARY_CLICKHOUSE_DATABASE)")
	fs.StringVar(&cfg.Group, "group", "ingest", "consumer group / durable name prefix")
	fs.IntVar(&cfg.BatchRows, "batch-rows", 5000, "rows per ClickHouse insert")
	fs.DurationVar(&cfg.FlushInterval, "flush-interval", 0, "longest a row waits for its batch (default 200ms)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if *brokers != "" {
		cfg.KafkaBrokers = strings.Split(*brokers, ",")
	}
	cfg = cfg.WithDefaults()
	return cfg, cfg.Validate()
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}
