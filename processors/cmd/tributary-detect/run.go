package main

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/tributary-io/tributary/processors/internal/series"
)

// input says how score reads its CSV.
type input struct {
	// Strict makes a NaN, an infinity or a time that does not move forward
	// an error; otherwise such a row is reported on Warn and skipped.
	Strict bool
	Warn   io.Writer
	// MaxWarnings bounds the per-line reports; a total follows at the end.
	MaxWarnings int
	// Chart, if set, collects every scored point for -plot.
	Chart *chart
}

// score reads CSV records and writes each scored one at once, so memory is
// constant in the input size. The first record is a header when its value
// field is not a number (a data row always has one); the header's column
// names pick the time and value columns. Bad rows are errors naming their
// line; rows the scorer must not see (NaN, ±Inf, time not after the
// previous row's) are skipped with a report, or are errors when Strict.
func score(ctx context.Context, cfg *series.Config, opt input, in io.Reader, out io.Writer) error {
	var st series.State
	r := csv.NewReader(in)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	r.TrimLeadingSpace = true
	r.Comment = '#'
	w := csv.NewWriter(out)
	if err := w.Write([]string{"timestamp", "value", "anomaly_score"}); err != nil {
		return err
	}
	debug := os.Getenv("TRIBUTARY_DETECT_DEBUG") != ""
	tCol, vCol := 0, 1
	var last time.Time
	skipped := 0
	skip := func(line int, why string) error {
		if opt.Strict {
			return fmt.Errorf("line %d: %s (-strict)", line, why)
		}
		skipped++
		if opt.Warn != nil && skipped <= opt.MaxWarnings {
			fmt.Fprintf(opt.Warn, "tributary-detect: line %d: %s: skipped\n", line, why)
		}
		return nil
	}
	row := make([]string, 3, 9)
	for n := 1; ; n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		line, _ := r.FieldPos(0)
		if err != nil {
			return fmt.Errorf("read CSV: %w", err)
		}
		if n == 1 && len(rec) >= 2 && !isNumber(rec[min(vCol, len(rec)-1)]) {
			if tCol, vCol, err = columns(rec); err != nil {
				return fmt.Errorf("line %d: header: %w", line, err)
			}
			continue
		}
		if len(rec) <= max(tCol, vCol) {
			return fmt.Errorf("line %d: want timestamp and value columns, got %d field(s)", line, len(rec))
		}
		ts, err := parseTime(rec[tCol])
		if err != nil {
			return fmt.Errorf("line %d: timestamp %q: %w", line, rec[tCol], err)
		}
		v, err := strconv.ParseFloat(rec[vCol], 64)
		if err != nil {
			return fmt.Errorf("line %d: value %q is not a number", line, rec[vCol])
		}
		switch {
		case math.IsNaN(v) || math.IsInf(v, 0):
			if err := skip(line, "value "+rec[vCol]); err != nil {
				return err
			}
			continue
		case !last.IsZero() && !ts.After(last):
			if err := skip(line, fmt.Sprintf("time %s is not after the previous row's %s", rec[tCol], last.Format(time.RFC3339))); err != nil {
				return err
			}
			continue
		}
		last = ts
		res := st.Update(cfg, ts, v)
		if opt.Chart != nil {
			opt.Chart.add(ts, v, res.Score)
		}
		row = append(row[:0], rec[tCol], rec[vCol], strconv.FormatFloat(res.Score, 'f', 6, 64))
		if debug {
			// Undocumented: what the scorer saw, for whoever tunes it.
			row = append(row, fmt.Sprintf("%.4f", res.Forecast), fmt.Sprintf("%.4f", res.Z),
				fmt.Sprintf("%.4f", st.Models[st.Active].Mean), fmt.Sprintf("%.4f", res.Raw),
				strconv.Itoa(st.Active), strconv.FormatBool(res.Range))
		}
		if err := w.Write(row); err != nil {
			return err
		}
	}
	w.Flush()
	if skipped > 0 && opt.Warn != nil {
		fmt.Fprintf(opt.Warn, "tributary-detect: %d row(s) skipped (NaN, infinite, or not later than the row before); -strict makes them errors\n", skipped)
	}
	return w.Error()
}

func isNumber(s string) bool {
	_, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	return err == nil
}

// columns picks the time and value columns from a header by name; a
// two-column header of other names means time then value.
func columns(header []string) (t, v int, err error) {
	t, v = -1, -1
	for i, h := range header {
		switch strings.ToLower(strings.TrimSpace(h)) {
		case "timestamp", "time", "ts", "event_time", "date", "datetime", "minute", "window_start":
			if t < 0 {
				t = i
			}
		case "value", "val", "y":
			if v < 0 {
				v = i
			}
		}
	}
	switch {
	case t >= 0 && v >= 0:
		return t, v, nil
	case len(header) == 2:
		return 0, 1, nil
	}
	return 0, 0, fmt.Errorf("columns %q: name one column timestamp (or time, ts, event_time) and one value", header)
}

var layouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02 15:04"}

// parseTime reads RFC 3339, "YYYY-MM-DD hh:mm:ss[.fff]" (UTC, as ClickHouse
// prints DateTime), or Unix time: seconds, or milliseconds from 10^11 on
// (a second count that large is past the year 5000).
func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil && !math.IsNaN(f) && !math.IsInf(f, 0) {
		if f >= 1e11 {
			return time.UnixMilli(int64(f)).UTC(), nil
		}
		sec, frac := math.Modf(f)
		return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
	}
	for _, l := range layouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New(`want RFC 3339, "YYYY-MM-DD hh:mm:ss" or Unix seconds/milliseconds`)
}
