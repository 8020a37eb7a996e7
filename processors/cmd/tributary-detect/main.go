// Command tributary-detect scores a CSV series `timestamp,value` (header
// optional; RFC 3339 or "2006-01-02 15:04:05" timestamps) from a file or
// stdin and writes `timestamp,value,anomaly_score`, the score in [0, 1].
// One streaming pass with no look-ahead: the same algorithm (package
// robust) and defaults as the streaming metric detector.
//
//	tributary-detect [-period 24h] [-bins 24] [file.csv]
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/tributary-io/tributary/processors/internal/robust"
)

func main() {
	var cfg robust.Config
	fs := flag.NewFlagSet("tributary-detect", flag.ExitOnError)
	fs.DurationVar(&cfg.Period, "period", 0, "seasonal period, e.g. 24h (0: none, the trend follows slow rhythms)")
	fs.IntVar(&cfg.Bins, "bins", 0, "seasonal bins per period (default 24)")
	fs.Float64Var(&cfg.Alpha, "alpha", 0, "level smoothing (default 0.2)")
	fs.IntVar(&cfg.Warmup, "warmup", 0, "points scored 0 while the baseline learns (default 20)")
	_ = fs.Parse(os.Args[1:])
	in := io.Reader(os.Stdin)
	if fs.NArg() > 0 && fs.Arg(0) != "-" {
		f, err := os.Open(fs.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "tributary-detect:", err)
			os.Exit(1)
		}
		defer f.Close()
		in = f
	}
	w := bufio.NewWriterSize(os.Stdout, 64<<10)
	err := run(context.Background(), cfg, in, w)
	if ferr := w.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "tributary-detect:", err)
		os.Exit(1)
	}
}
