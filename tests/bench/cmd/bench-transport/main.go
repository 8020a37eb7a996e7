// Command bench-transport measures publish and subscribe throughput of our
// Kafka and JetStream adapters against watermill-kafka (Sarama), raw
// kafka-go and raw nats.go on the servers of TRIBUTARY_KAFKA_BROKERS and
// TRIBUTARY_NATS_URL (default: the local stack's ports), prints a table and
// writes the results as JSON. See package tests/bench/transport for what
// is measured and how the settings are kept equal.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/tests/bench/transport"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench-transport:", err)
		os.Exit(1)
	}
}

func run() error {
	var cfg transport.Config
	brokers := flag.String("kafka", envOr("TRIBUTARY_KAFKA_BROKERS", "127.0.0.1:9092"), "Kafka brokers, comma-separated (env TRIBUTARY_KAFKA_BROKERS)")
	flag.StringVar(&cfg.NATSURL, "nats", envOr("TRIBUTARY_NATS_URL", "nats://127.0.0.1:4222"), "NATS URL (env TRIBUTARY_NATS_URL)")
	transports := flag.String("transports", "kafka,jetstream", "transports to measure")
	partitions := flag.String("partitions", "1,8", "Kafka partition counts")
	flag.IntVar(&cfg.PublishMessages, "publish-messages", 0, "messages per round, concurrent publish (default 20000)")
	flag.IntVar(&cfg.BatchMessages, "batch-messages", 0, "messages per round, batch publish (default 5000)")
	flag.IntVar(&cfg.SubscribeMessages, "subscribe-messages", 0, "messages per round, subscribe (default 50000)")
	flag.IntVar(&cfg.Concurrency, "concurrency", 0, "publishing goroutines in concurrent mode (default 64)")
	flag.IntVar(&cfg.Rounds, "rounds", 0, "rounds per case; the median is reported (default 3)")
	out := flag.String("out", "out/bench-transport.json", "JSON output file")
	verbose := flag.Bool("v", false, "log every round")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the whole run here")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	cfg.KafkaBrokers = strings.Split(*brokers, ",")
	cfg.Transports = strings.Split(*transports, ",")
	for _, p := range strings.Split(*partitions, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(p))
		if err != nil {
			return fmt.Errorf("-partitions: %w", err)
		}
		cfg.Partitions = append(cfg.Partitions, n)
	}
	level := slog.LevelWarn
	if *verbose {
		level = slog.LevelInfo
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	began := time.Now()
	results, runErr := transport.Run(ctx, cfg)
	if err := transport.WriteTable(os.Stdout, results); err != nil {
		return err
	}
	fmt.Printf("took %s\n", time.Since(began).Round(time.Second))
	if err := writeJSON(*out, results); err != nil {
		return errors.Join(runErr, err)
	}
	return runErr
}

func writeJSON(path string, results []transport.Result) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	raw, err := json.MarshalIndent(results, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(raw, '\n'), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
