// Command tributary-publish publishes events given as JSON lines
// (CloudEvents structured mode, see schemas.UnmarshalStructured) from
// stdin or files, and reports each line:
//
//	line 3: accepted 0190b6a4-7c1e-7b3a-9c2d-3e4f5a6b7c8d
//	line 4: publish io.tributary.auth.login.failed: auth.login.failed: field "source_ip": "nope" is not an IP address
//
// Missing id and time are filled; everything else must be in the line. The
// exit code is 1 when any line failed, 2 for bad flags or settings.
// Settings come from flags, TRIBUTARY_* variables or a YAML file (-config),
// as for every binary (package cli); "tributary-publish validate" checks
// them without connecting.
//
//	tributary-publish events.jsonl more.jsonl
//	producer | tributary-publish -source //tributary/batch-import
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
	"github.com/tributary-io/tributary/producers/jsonlines"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
)

type config struct {
	Files    []string // empty: stdin
	Dial     publish.DialConfig
	Log      observe.LogConfig
	Validate bool // only check the settings
}

func (c config) validate() error {
	var errs []error
	if c.Dial.NATSURL == "" && len(c.Dial.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("no brokers: set -nats-url/-kafka-brokers or TRIBUTARY_NATS_URL/TRIBUTARY_KAFKA_BROKERS"))
	}
	if err := c.Dial.Config.WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
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
		fmt.Fprintln(os.Stderr, "tributary-publish:", err)
		os.Exit(cli.ExitUsage)
	}
	if cfg.Validate {
		fmt.Println("tributary-publish: settings are valid")
		os.Exit(cli.ExitOK)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	st, err := run(ctx, cfg, log, os.Stdin, os.Stdout)
	fmt.Fprintf(os.Stderr, "tributary-publish: %d lines, %d accepted, %d failed\n", st.Lines, st.Accepted, st.Failed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-publish:", err)
		os.Exit(cli.ExitFailure)
	}
	if st.Failed > 0 {
		os.Exit(cli.ExitFailure)
	}
}

func load(args []string) (config, error) {
	fs := flag.NewFlagSet("tributary-publish", flag.ContinueOnError)
	var cfg config
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `usage: tributary-publish [flags] [events.jsonl ...]
       tributary-publish validate [settings.yaml] [flags]   (check the settings without connecting)

Publishes JSON lines (CloudEvents structured mode) from the files or stdin.
Every flag can also be set by its variable (-nats-url: TRIBUTARY_NATS_URL)
or as a key of the -config YAML file; flags beat variables, variables beat
the file. Exit codes: 0 every line accepted, 1 a line or the connection
failed, 2 bad settings.

flags:
`)
		fs.PrintDefaults()
	}
	fs.StringVar(&cfg.Dial.Source, "source", "//tributary/publish-cli", "source stamped on events without one (env TRIBUTARY_SOURCE)")
	fs.StringVar(&cfg.Dial.NATSURL, "nats-url", "", "NATS URL (env TRIBUTARY_NATS_URL)")
	kafka := fs.String("kafka-brokers", "", "Kafka brokers, comma-separated (env TRIBUTARY_KAFKA_BROKERS)")
	fs.IntVar(&cfg.Dial.Replicas, "replicas", 0, "copies of every stream and topic partition when provisioning creates them: 1 single-node, 3 on a cluster (env TRIBUTARY_REPLICAS; a -cluster local stack's env file sets it)")
	fs.BoolVar(&cfg.Dial.Provision, "provision", false, "create the streams and topics first (idempotent)")
	fs.StringVar(&cfg.Log.Level, "log-level", "warn", "debug, info, warn or error (env TRIBUTARY_LOG_LEVEL)")
	fs.StringVar(&cfg.Log.Format, "log-format", "text", "text or json (env TRIBUTARY_LOG_FORMAT)")
	var natsSec secure.NATS
	var kafkaSec secure.Kafka
	secure.RegisterNATS(fs, os.Getenv, &natsSec)
	secure.RegisterKafka(fs, os.Getenv, &kafkaSec)
	var err error
	if cfg.Validate, err = cli.Parse(fs, args); err != nil {
		return cfg, err
	}
	opts, err := natsSec.Options()
	if err != nil {
		return cfg, err
	}
	cfg.Dial.NATSOptions = opts
	if cfg.Dial.KafkaSecurity, err = kafkaSec.Security(); err != nil {
		return cfg, err
	}
	if *kafka != "" {
		cfg.Dial.KafkaBrokers = strings.Split(*kafka, ",")
	}
	cfg.Files = fs.Args()
	return cfg, cfg.validate()
}

func run(ctx context.Context, cfg config, log *slog.Logger, stdin io.Reader, out io.Writer) (jsonlines.Stats, error) {
	cfg.Dial.Logger = log
	conn, err := publish.Dial(ctx, cfg.Dial)
	if err != nil {
		return jsonlines.Stats{}, err
	}
	defer conn.Close()
	// Room for the largest event the limits allow, plus JSON escaping.
	maxLine := 2*schemas.DefaultLimits().MaxEventSize + 4096
	if len(cfg.Files) == 0 {
		return jsonlines.Process(ctx, "", stdin, maxLine, conn, out)
	}
	var total jsonlines.Stats
	for _, name := range cfg.Files {
		f, err := os.Open(name)
		if err != nil {
			return total, err
		}
		st, err := jsonlines.Process(ctx, name, f, maxLine, conn, out)
		f.Close()
		total.Lines, total.Accepted, total.Failed = total.Lines+st.Lines, total.Accepted+st.Accepted, total.Failed+st.Failed
		if err != nil {
			return total, err
		}
	}
	return total, nil
}
