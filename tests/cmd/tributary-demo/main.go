// Command tributary-demo runs the platform's main job on the servers named
// by the TRIBUTARY_* variables (make demo starts them and passes them on):
// a two-minute simulated scenario with injected anomalies is published
// through the producer SDK to JetStream (auth, tasks) and Kafka
// (telemetry); the ingest consumer groups land it in ClickHouse while the
// streaming detectors publish anomaly events, which land there too. It then
// prints the anomaly report — what was injected, what was found, by which
// detector or query, how fast — and how to query it yourself.
//
// The pipeline run is package tests/eval's, the same code `make eval`
// scores; the demo keeps its rows in the analysts' default database.
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
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/tests/eval"
)

type config struct {
	servers  eval.Servers
	scenario string
	database string
	seed     uint64
	grace    time.Duration
	verbose  bool
	html     string
}

func main() {
	cfg := config{servers: eval.Servers{
		NATSURL:        os.Getenv("TRIBUTARY_NATS_URL"),
		ClickHouseAddr: os.Getenv("TRIBUTARY_CLICKHOUSE_ADDR"),
	}}
	if b := os.Getenv("TRIBUTARY_KAFKA_BROKERS"); b != "" {
		cfg.servers.KafkaBrokers = strings.Split(b, ",")
	}
	flag.StringVar(&cfg.scenario, "scenario", "producers/scenarios/demo.yaml", "scenario file (producers/sim format)")
	// tributary-query reads TRIBUTARY_CLICKHOUSE_DATABASE, default "tributary":
	// the demo writes there so the printed commands work as they are.
	flag.StringVar(&cfg.database, "database", envOr("TRIBUTARY_CLICKHOUSE_DATABASE", "tributary"), "ClickHouse database to ingest into")
	flag.Uint64Var(&cfg.seed, "seed", 1, "simulation seed")
	flag.DurationVar(&cfg.grace, "grace", 20*time.Second, "how long detectors run after the last event")
	flag.BoolVar(&cfg.verbose, "v", false, "log the services' warnings")
	flag.StringVar(&cfg.html, "html", "out/demo-report.html", "write the HTML report here")
	// Credentials and TLS as every binary takes them: from the secure
	// stack's env file (make demo SECURE=1), or nothing on the open stack.
	var natsSec secure.NATS
	var kafkaSec secure.Kafka
	secure.RegisterNATS(flag.CommandLine, os.Getenv, &natsSec)
	secure.RegisterKafka(flag.CommandLine, os.Getenv, &kafkaSec)
	secure.RegisterClickHouse(flag.CommandLine, os.Getenv, &cfg.servers.ClickHouse)
	flag.Parse()
	var err error
	if cfg.servers.NATSOptions, err = natsSec.Options(); err == nil {
		cfg.servers.KafkaSecurity, err = kafkaSec.Security()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-demo:", err)
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "tributary-demo:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, cfg config, out io.Writer) error {
	srv := cfg.servers
	if srv.NATSURL == "" || len(srv.KafkaBrokers) == 0 || srv.ClickHouseAddr == "" {
		return errors.New("TRIBUTARY_NATS_URL, TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_CLICKHOUSE_ADDR must be set (make demo sets them from .tributary/env)")
	}
	data, err := os.ReadFile(cfg.scenario)
	if err != nil {
		return err
	}
	sc, err := sim.Parse(data)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, sc.Duration+6*time.Minute)
	defer cancel()
	level := slog.LevelError
	if cfg.verbose {
		level = slog.LevelWarn
	}
	ecfg := eval.Config{Servers: srv, Scenario: sc, Seed: cfg.seed, Database: cfg.database, Grace: cfg.grace,
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level})), Progress: out}.WithDefaults()
	// Consumer groups, durables and checkpoints are the run's own; the rows
	// stay for the analyst.
	defer func() {
		if err := eval.Cleanup(context.WithoutCancel(ctx), srv, ecfg.Group(), ecfg.Database, false); err != nil {
			fmt.Fprintln(os.Stderr, "tributary-demo:", err)
		}
	}()
	began := time.Now()
	res, err := eval.Run(ctx, ecfg)
	if err != nil {
		return err
	}
	rep := eval.NewReport(res, eval.DefaultTolerance)
	fmt.Fprintf(out, "\n%s", transports(res))
	printReport(out, res, rep)
	if err := writeHTML(ctx, srv, res, cfg.html); err != nil {
		return err
	}
	fmt.Fprintf(out, "\nHTML report (each injected anomaly, its series and where the detectors and queries fired): %s\n", cfg.html)
	howTo(out, res)
	fmt.Fprintf(out, "\ndemo finished in %s\n", time.Since(began).Round(time.Second))
	return nil
}

// transports says what went where: auth and task events over JetStream,
// telemetry over Kafka (schemas' routing table), and what landed.
func transports(res *eval.Result) string {
	var b strings.Builder
	for tr, m := range res.Publish.Metrics.Transports {
		fmt.Fprintf(&b, "  %-9s %6d events published, publish latency p50 %s p99 %s\n", tr, m.Published,
			m.Latency.P50.Round(10*time.Microsecond), m.Latency.P99.Round(10*time.Microsecond))
	}
	fmt.Fprintf(&b, "  landed in ClickHouse %s:", res.Database)
	for _, t := range []string{"auth_events", "task_events", "telemetry_metrics", "telemetry_logs", "telemetry_heartbeats"} {
		fmt.Fprintf(&b, " %s %d,", t, res.Delivered[t])
	}
	fmt.Fprintf(&b, " anomalies %d\n", len(res.Detected))
	return b.String()
}

// writeHTML reads the injected metric series back from ClickHouse and
// writes the self-contained report.
func writeHTML(ctx context.Context, srv eval.Servers, res *eval.Result, path string) error {
	chcfg, err := srv.ClickHouseConfig(res.Database)
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{srv.ClickHouseAddr}, TLS: chcfg.TLS,
		Auth: clickhouse.Auth{Database: res.Database, Username: chcfg.Username, Password: chcfg.Password}})
	if err != nil {
		return fmt.Errorf("report: %w", err)
	}
	defer conn.Close()
	series, err := eval.Series(ctx, conn, res)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return err
	}
	return eval.WriteHTML(abs, res, series, eval.DefaultTolerance)
}
