// Command tributary-eval-series scores a series anomaly detector (by
// default bin/tributary-detect) on labelled real KPI series and on
// generated families, with the windowed scoring of the Numenta Anomaly
// Benchmark (package evalseries), and prints a table per series and per
// family for the standard, reward-low-FP and reward-low-FN profiles.
//
//	tributary-eval-series [-detector bin/tributary-detect] [-kpi ../shared/datasets/kpi] [-out out/eval-series.json]
//
// It exits 1 when a series or a family scores below -min on the standard
// profile, 2 on bad usage.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/tributary-io/tributary/tests/evalseries"
)

func main() {
	fs := flag.NewFlagSet("tributary-eval-series", flag.ContinueOnError)
	det := fs.String("detector", "bin/tributary-detect", "detector program: given a timestamp,value CSV file, prints a header and one line per point ending in its score")
	args := fs.String("args", "", "extra arguments for the detector, space-separated, before the file")
	kpi := fs.String("kpi", "../shared/datasets/kpi", "folder of labelled KPI series (timestamp,value,label); empty: generated families only")
	out := fs.String("out", "out/eval-series.json", "where the JSON report goes")
	minScore := fs.Float64("min", 0, "fail when a series or family scores below this on the standard profile")
	keep := fs.String("keep", "", "write the series' CSV files into this folder and keep them (default: a temporary folder, removed)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, evalseries.Command{Path: *det, Args: strings.Fields(*args)}, *kpi, *out, *keep, *minScore); err != nil {
		fmt.Fprintln(os.Stderr, "tributary-eval-series:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, det evalseries.Command, kpi, out, keep string, minScore float64) error {
	start := time.Now()
	corpus := evalseries.Generated()
	if err := evalseries.Check(corpus); err != nil {
		return err
	}
	if kpi != "" {
		real, err := evalseries.ReadKPIDir(kpi, "kpi")
		if err != nil {
			return fmt.Errorf("read the KPI corpus (set -kpi \"\" to leave it out): %w", err)
		}
		corpus = append(real, corpus...)
	}
	dir := keep
	if dir == "" {
		tmp, err := os.MkdirTemp("", "eval-series-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	scored, err := det.ScoreAll(ctx, dir, corpus)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(det.Path + " " + strings.Join(det.Args, " "))
	rep, err := evalseries.NewReport(name, scored)
	if err != nil {
		return err
	}
	fmt.Print(rep.Table())
	ths := []float64{0.1, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9}
	fmt.Print("\nstandard profile at other thresholds:\n")
	below := evalseries.BelowAt(scored, evalseries.Standard, ths)
	for i, o := range evalseries.Curve(scored, evalseries.Standard, ths) {
		fmt.Printf("  %.2f: score %6.1f, %3d of %d windows, %4d false alarms, %2d series below 0\n", ths[i], o.Normalized, o.Detected, o.Windows, o.FP, below[i])
	}
	if err := rep.WriteJSON(out); err != nil {
		return err
	}
	fmt.Printf("wrote %s in %s\n", out, time.Since(start).Round(100*time.Millisecond))
	if below := rep.Below(evalseries.Standard, minScore); len(below) > 0 {
		return fmt.Errorf("below %g on the standard profile: %s", minScore, strings.Join(below, "; "))
	}
	return nil
}
