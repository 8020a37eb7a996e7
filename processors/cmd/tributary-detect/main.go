// Command tributary-detect scores a series — `timestamp,value` CSV from a
// file or stdin — and writes `timestamp,value,anomaly_score`, in one
// streaming pass with no look-ahead, with the scorer of the live metric
// detector (package series).
//
//	tributary-detect [flags] [file.csv]
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/tributary-io/tributary/infra/cli"
	"github.com/tributary-io/tributary/processors/internal/series"
)

const usage = `usage: tributary-detect [flags] [file.csv | -]

Reads CSV with a time and a value column — a header is optional and, when
present, its names pick the columns (timestamp/time/ts/event_time and
value); quoted fields as ClickHouse writes them; times in RFC 3339,
"YYYY-MM-DD hh:mm:ss" (UTC) or Unix seconds or milliseconds — and writes
timestamp,value,anomaly_score in one streaming pass, without look-ahead.
Rows with NaN or infinite values, or whose time is not after the row
before, are reported with their line numbers and skipped (-strict: an
error), so they never reach the scorer's state.

Export from ClickHouse, for example:
  clickhouse-client -q "SELECT event_time, value FROM telemetry_metrics
    WHERE host = 'h1' AND name = 'cpu.usage' ORDER BY event_time
    FORMAT CSVWithNames" > cpu.csv

What the score means
  anomaly_score is in [0, 1]: -log10(p)/10, where p is how improbable the
  point, or the run of points leading to it, is against this series' own
  history (0.5: one in 100,000; 1: one in 10^10 or less). The scorer learns
  each series' level, trend, daily and weekly profile and noise, and judges
  deviations against the deviations the series has shown before, so the
  same score means the same on a noisy series and on a quiet one. A value
  far beyond the range seen so far scores at least 0.5 at once.
  An alert run is reported once: a point scores only when it beats every
  recent score (each fading to nothing over -cooldown points); the rest of
  the run scores 0. Use -cooldown -1 for every point's own likelihood.
  The first points of a series score 0 while it learns (-warmup).

Picking a threshold
  0.5 is the live detector's alert level: one in 100,000. Every series is
  calibrated on itself, so one threshold serves all. On the labelled
  series of 'make eval-series' the best single threshold was about 0.26
  (0.27 where false alarms cost double); lower pages on noise, above 0.4
  only stark anomalies remain. That command prints how each threshold
  scores.

Settings: every flag can also be set by its variable (-warmup:
TRIBUTARY_WARMUP) or as a key of the -config YAML file, as for every
Tributary binary. Exit codes: 0 success, 1 unreadable input, 2 bad usage.

flags:
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code (0 success,
// 1 failure, 2 bad usage).
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	// The flags' defaults are the scorer's, which the live detector uses.
	var def, cfg series.Config
	def.SetDefaults()
	fs := flag.NewFlagSet("tributary-detect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	seasons := fs.String("seasons", formatSeasons(def.Seasons), `seasonal periods to try, comma-separated; "none" for none`)
	fs.IntVar(&cfg.Cooldown, "cooldown", def.Cooldown, "points over which a score fades; later points score only if they beat it (-1: score every point)")
	fs.IntVar(&cfg.Warmup, "warmup", def.Warmup, "points a forecaster learns before it scores")
	fs.Float64Var(&cfg.HalfLife, "halflife", def.HalfLife, "points after which a past deviation weighs half in the series' history")
	fs.Float64Var(&cfg.Range, "range", def.Range, "a value beyond the range seen so far by this share of it scores at least 0.5")
	plotPath := fs.String("plot", "", "also draw the series, its scores and the points at or above -alert into this .svg or .png file (holds every point in memory)")
	alertAt := fs.Float64("alert", 0.5, "score drawn as an alert by -plot")
	strict := fs.Bool("strict", false, "a NaN or infinite value, or a time not after the row before, is an error instead of a skipped row")
	validate, err := cli.Parse(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return cli.ExitOK
	}
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect:", err)
		return cli.ExitUsage
	}
	if cfg.Seasons, err = parseSeasons(*seasons); err != nil {
		fmt.Fprintln(stderr, "tributary-detect: -seasons:", err)
		return 2
	}
	cfg.SetDefaults()
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(stderr, "tributary-detect:", err)
		return 2
	}
	if ext := strings.ToLower(filepath.Ext(*plotPath)); *plotPath != "" && ext != ".svg" && ext != ".png" {
		fmt.Fprintf(stderr, "tributary-detect: -plot %s: want a .svg or .png file\n", *plotPath)
		return 2
	}
	if fs.NArg() > 1 {
		fmt.Fprintln(stderr, "tributary-detect: one input file at most")
		return 2
	}
	if validate {
		fmt.Fprintln(stdout, "tributary-detect: settings are valid")
		return cli.ExitOK
	}
	in := stdin
	if fs.NArg() == 1 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(stderr, "tributary-detect:", err)
			return 1
		}
		defer f.Close()
		in = f
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	w := bufio.NewWriterSize(stdout, 64<<10)
	opt := input{Strict: *strict, Warn: stderr, MaxWarnings: 20}
	if *plotPath != "" {
		opt.Chart = &chart{alertAt: *alertAt}
	}
	err = score(ctx, &cfg, opt, in, w)
	if err == nil && opt.Chart != nil {
		err = opt.Chart.write(*plotPath)
	}
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(stderr, "tributary-detect:", err)
		return 1
	}
	return 0
}

func formatSeasons(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	var out []string
	for _, d := range ds {
		out = append(out, strings.TrimSuffix(strings.TrimSuffix(d.String(), "0s"), "0m"))
	}
	return strings.Join(out, ",")
}

func parseSeasons(s string) ([]time.Duration, error) {
	out := []time.Duration{}
	if s == "none" || s == "" {
		return out, nil
	}
	for _, f := range strings.Split(s, ",") {
		d, err := time.ParseDuration(strings.TrimSpace(f))
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, nil
}
