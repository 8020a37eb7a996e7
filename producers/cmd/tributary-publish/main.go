// Command tributary-publish publishes events given as JSON lines
// (CloudEvents structured mode, see schemas.UnmarshalStructured) from
// stdin or files, and reports each line:
//
//	line 3: accepted 0190b6a4-7c1e-7b3a-9c2d-3e4f5a6b7c8d
//	line 4: publish io.tributary.auth.login.failed: auth.login.failed: field "source_ip": "nope" is not an IP address
//
// Missing id and time are filled; everything else must be in the line. The
// exit code is 1 when any line failed, 2 for bad flags or settings.
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

	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/producers/jsonlines"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
)

type config struct {
	Files []string // empty: stdin
	Dial  publish.DialConfig
}

func (c config) validate() error {
	var errs []error
	if c.Dial.NATSURL == "" && len(c.Dial.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("no brokers: set -nats/-kafka or TRIBUTARY_NATS_URL/TRIBUTARY_KAFKA_BROKERS"))
	}
	if err := c.Dial.Config.WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func main() {
	cfg, err := load(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0) // the flag set printed the help
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-publish:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := run(ctx, cfg, log, os.Stdin, os.Stdout)
	fmt.Fprintf(os.Stderr, "tributary-publish: %d lines, %d accepted, %d failed\n", st.Lines, st.Accepted, st.Failed)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-publish:", err)
		os.Exit(1)
	}
	if st.Failed > 0 {
		os.Exit(1)
	}
}

func load(args []string) (config, error) {
	fs := flag.NewFlagSet("tributary-publish", flag.ContinueOnError)
	var cfg config
	fs.StringVar(&cfg.Dial.Source, "source", envOr("TRIBUTARY_SOURCE", "//tributary/publish-cli"),
		"source stamped on events without one (env TRIBUTARY_SOURCE)")
	fs.StringVar(&cfg.Dial.NATSURL, "nats", os.Getenv("TRIBUTARY_NATS_URL"), "NATS URL (env TRIBUTARY_NATS_URL)")
	kafka := fs.String("kafka", os.Getenv("TRIBUTARY_KAFKA_BROKERS"), "Kafka brokers, comma-separated (env TRIBUTARY_KAFKA_BROKERS)")
	fs.BoolVar(&cfg.Dial.Provision, "provision", false, "create the streams and topics first (idempotent)")
	var natsSec secure.NATS
	var kafkaSec secure.Kafka
	secure.RegisterNATS(fs, os.Getenv, &natsSec)
	secure.RegisterKafka(fs, os.Getenv, &kafkaSec)
	if err := fs.Parse(args); err != nil {
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

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
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
