package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/tributary-io/tributary/processors/internal/series"
)

var layouts = []string{time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05"}

// score reads line by line and writes each scored line at once, so memory
// is constant in the input size. A first line whose timestamp does not
// parse is taken as a header; any later bad line is an error naming the
// line.
func score(ctx context.Context, cfg *series.Config, in io.Reader, out io.Writer) error {
	var st series.State
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	if _, err := io.WriteString(out, "timestamp,value,anomaly_score\n"); err != nil {
		return err
	}
	debug := os.Getenv("TRIBUTARY_DETECT_DEBUG") != ""
	buf := make([]byte, 0, 128)
	for n := 1; sc.Scan(); n++ {
		if n%4096 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		tsRaw, valRaw, ok := bytes.Cut(line, []byte{','})
		ts, terr := parseTime(string(bytes.TrimSpace(tsRaw)))
		if n == 1 && terr != nil {
			continue // header
		}
		if !ok || terr != nil {
			return fmt.Errorf("line %d: want timestamp,value: %v", n, terr)
		}
		v, err := strconv.ParseFloat(string(bytes.TrimSpace(valRaw)), 64)
		if err != nil {
			return fmt.Errorf("line %d: value: %w", n, err)
		}
		r := st.Update(cfg, ts, v)
		buf = append(buf[:0], bytes.TrimSpace(tsRaw)...)
		buf = append(buf, ',')
		buf = append(buf, bytes.TrimSpace(valRaw)...)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, r.Score, 'f', 6, 64)
		if debug {
			// Undocumented: what the scorer saw, for whoever tunes it.
			buf = fmt.Appendf(buf, ",%.4f,%.4f,%.4f,%.4f,%d,%t", r.Forecast, r.Z, st.Models[st.Active].Mean, r.Raw, st.Active, r.Range)
		}
		buf = append(buf, '\n')
		if _, err := out.Write(buf); err != nil {
			return err
		}
	}
	return sc.Err()
}

func parseTime(s string) (time.Time, error) {
	var err error
	for _, l := range layouts {
		var t time.Time
		if t, err = time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, err
}
