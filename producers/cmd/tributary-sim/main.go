// Command tributary-sim runs simulated auth, task and telemetry services
// from a YAML scenario (producers/scenarios/), publishes their events to
// JetStream and Kafka through the SDK, writes the ground truth of the
// injected anomalies as JSON lines and prints the achieved rate and publish
// latencies.
//
//	tributary-sim -scenario producers/scenarios/demo.yaml -truth out/demo.truth.jsonl
//
// One process simulates all three services: they share one world (users,
// hosts, clock) and one seed, which is what makes a run reproducible and
// its ground truth exact; separate processes would need to share both.
//
// Settings come from flags, TRIBUTARY_* variables or a YAML file (-config),
// as for every binary (package cli); "tributary-sim validate" checks them
// and the scenario without connecting.
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
	"time"

	"github.com/tributary-io/tributary/infra/cli"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/producers/loadgen"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
)

// config is everything main reads from flags, environment and files.
type config struct {
	ScenarioPath string
	Scenario     sim.Scenario
	TruthPath    string
	DryRun       bool
	Run          loadgen.Config
	Dial         publish.DialConfig
	Log          observe.LogConfig
	Validate     bool // only check the settings
}

func (c config) validate() error {
	var errs []error
	if c.TruthPath == "" {
		errs = append(errs, errors.New("-truth: required"))
	}
	if !c.DryRun && c.Dial.NATSURL == "" && len(c.Dial.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("no brokers: set -nats-url/-kafka-brokers or TRIBUTARY_NATS_URL/TRIBUTARY_KAFKA_BROKERS"))
	}
	errs = append(errs, c.Run.Validate())
	if _, err := observe.NewLogger(io.Discard, c.Log); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func main() {
	cfg, err := load(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(cli.ExitOK) // the flag set printed the help
	}
	var log *slog.Logger
	if err == nil {
		log, err = observe.NewLogger(os.Stderr, cfg.Log)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-sim:", err)
		os.Exit(cli.ExitUsage)
	}
	if cfg.Validate {
		fmt.Println("tributary-sim: settings are valid")
		os.Exit(cli.ExitOK)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := run(ctx, cfg, log)
	fmt.Print(rep.Summary())
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-sim:", err)
		os.Exit(cli.ExitFailure)
	}
	if rep.Failed > 0 {
		os.Exit(cli.ExitFailure)
	}
}

func load(args []string) (config, error) {
	fs := flag.NewFlagSet("tributary-sim", flag.ContinueOnError)
	var cfg config
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: tributary-sim [flags]
       tributary-sim validate [settings.yaml] [flags]   (check the settings and the scenario without connecting)

Every flag can also be set by its variable (-nats-url: TRIBUTARY_NATS_URL)
or as a key of the -config YAML file; flags beat variables, variables beat
the file. Exit codes: 0 success, 1 a publish or connection failed, 2 bad
settings.

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.ScenarioPath, "scenario", "producers/scenarios/demo.yaml", "scenario YAML file")
	seed := fs.Uint64("seed", 1, "random seed: the same seed and scenario give the same events")
	fs.Float64Var(&cfg.Run.Speed, "speed", 1, "simulated seconds per wall second; negative: as fast as the brokers go")
	fs.StringVar(&cfg.TruthPath, "truth", "", "ground-truth output, JSON lines (default <scenario name>.truth.jsonl)")
	fs.BoolVar(&cfg.DryRun, "dry-run", false, "generate without publishing: count events and write the truth")
	fs.IntVar(&cfg.Run.Async.Buffer, "buffer", 8192, "events buffered before the generator is slowed down")
	fs.IntVar(&cfg.Run.Async.Workers, "workers", 8, "concurrent publish batches")
	fs.StringVar(&cfg.Dial.NATSURL, "nats-url", "", "NATS URL (env TRIBUTARY_NATS_URL)")
	kafka := fs.String("kafka-brokers", "", "Kafka brokers, comma-separated (env TRIBUTARY_KAFKA_BROKERS)")
	fs.IntVar(&cfg.Dial.Replicas, "replicas", 0, "copies of every stream and topic partition when provisioning creates them: 1 single-node, 3 on a cluster (env TRIBUTARY_REPLICAS; a -cluster local stack's env file sets it)")
	fs.BoolVar(&cfg.Dial.Provision, "provision", true, "create the streams and topics first (idempotent)")
	fs.StringVar(&cfg.Log.Level, "log-level", "info", "debug, info, warn or error (env TRIBUTARY_LOG_LEVEL)")
	fs.StringVar(&cfg.Log.Format, "log-format", "text", "text or json (env TRIBUTARY_LOG_FORMAT)")
	var natsSec secure.NATS
	var kafkaSec secure.Kafka
	secure.RegisterNATS(fs, os.Getenv, &natsSec)
	secure.RegisterKafka(fs, os.Getenv, &kafkaSec)
	var err error
	if cfg.Validate, err = cli.Parse(fs, args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q (settings are flags; -h lists them)", fs.Arg(0))
	}
	opts, err := natsSec.Options()
	if err != nil {
		return cfg, err
	}
	cfg.Dial.NATSOptions = opts
	if cfg.Dial.KafkaSecurity, err = kafkaSec.Security(); err != nil {
		return cfg, err
	}
	cfg.Run.Seed = *seed
	if *kafka != "" {
		cfg.Dial.KafkaBrokers = strings.Split(*kafka, ",")
	}
	cfg.Dial.Source = sim.SourceTelemetry // only stamped on events without one; sim events have theirs
	data, err := os.ReadFile(cfg.ScenarioPath)
	if err != nil {
		return cfg, err
	}
	if cfg.Scenario, err = sim.Parse(data); err != nil {
		return cfg, fmt.Errorf("%s: %w", cfg.ScenarioPath, err)
	}
	cfg.Run.Scenario = cfg.Scenario
	if cfg.TruthPath == "" {
		cfg.TruthPath = cfg.Scenario.Name + ".truth.jsonl"
	}
	return cfg, cfg.validate()
}

func run(ctx context.Context, cfg config, log *slog.Logger) (loadgen.Report, error) {
	cfg.Run.Logger, cfg.Dial.Logger = log, log
	f, err := os.Create(cfg.TruthPath)
	if err != nil {
		return loadgen.Report{}, err
	}
	defer f.Close()
	if cfg.DryRun {
		return dryRun(cfg, f)
	}
	conn, err := publish.Dial(ctx, cfg.Dial)
	if err != nil {
		return loadgen.Report{}, err
	}
	defer conn.Close()
	log.Info("running scenario", "scenario", cfg.Scenario.Name, "seed", cfg.Run.Seed, "speed", cfg.Run.Speed,
		"duration", cfg.Scenario.Duration, "expected_rate", int(cfg.Scenario.ExpectedRate()), "truth", cfg.TruthPath)
	rep, err := loadgen.Run(ctx, cfg.Run, conn.Client, f)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return rep, err
}

// dryRun generates the events without a bus: a quick check of a scenario.
func dryRun(cfg config, truth io.Writer) (loadgen.Report, error) {
	g, err := sim.New(cfg.Scenario, cfg.Run.Seed)
	if err != nil {
		return loadgen.Report{}, err
	}
	rep := loadgen.Report{Scenario: cfg.Scenario.Name, Seed: cfg.Run.Seed, Start: g.Start(), Truth: g.Truth(),
		Expected: cfg.Scenario.ExpectedRate()}
	if err := loadgen.WriteTruth(truth, rep.Truth); err != nil {
		return rep, err
	}
	err = g.Events(func(_ time.Time, _ schemas.Envelope) error { rep.Events++; return nil })
	rep.Rate = float64(rep.Events) / cfg.Scenario.Duration.Seconds()
	return rep, err
}
