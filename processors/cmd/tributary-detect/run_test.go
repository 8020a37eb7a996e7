package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/processors/internal/series"
	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/processors/internal/teledetect"
	"github.com/tributary-io/tributary/schemas"
)

func makeCSV(n int, header bool, layout string, spikeAt int) string {
	var b strings.Builder
	if header {
		b.WriteString("timestamp,value\n")
	}
	rng := rand.New(rand.NewPCG(1, 1))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		v := 100 + 10*math.Sin(float64(i)/50) + rng.NormFloat64()
		if i == spikeAt || i == spikeAt+1 {
			v *= 3
		}
		fmt.Fprintf(&b, "%s,%.3f\n", t0.Add(time.Duration(i)*time.Minute).Format(layout), v)
	}
	return b.String()
}

// withSpike returns a clean series of n points with a spike at spikeAt,
// as CSV lines "time,value" in layout, after header (may be empty); rows
// maps a point's index to a replacement line (a NaN, a bad time).
func withSpike(n, spikeAt int, header string, layout func(time.Time) string, rows map[int]string) string {
	var b strings.Builder
	b.WriteString(header)
	rng := rand.New(rand.NewPCG(1, 1))
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range n {
		v := 100 + 10*math.Sin(float64(i)/50) + rng.NormFloat64()
		if i == spikeAt {
			v *= 3
		}
		if r, ok := rows[i]; ok {
			b.WriteString(r + "\n")
			continue
		}
		fmt.Fprintf(&b, "%s,%.3f\n", layout(t0.Add(time.Duration(i)*time.Minute)), v)
	}
	return b.String()
}

func TestScore(t *testing.T) {
	rfc := func(t time.Time) string { return t.Format(time.RFC3339) }
	chQuoted := func(t time.Time) string { return `"` + t.Format(time.DateTime) + `"` }
	unix := func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) }
	millis := func(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }
	at := func(i int) time.Time {
		return time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	}
	// host,value,time: the header's names, not the order, pick the columns.
	var b strings.Builder
	b.WriteString("host,value,time\n")
	for _, l := range strings.Split(strings.TrimSpace(withSpike(600, 450, "", rfc, nil)), "\n") {
		ts, v, _ := strings.Cut(l, ",")
		fmt.Fprintf(&b, "h1,%s,%s\n", v, ts)
	}
	reordered := b.String()
	tests := []struct {
		name     string
		in       string
		strict   bool
		wantErr  string
		rows     int
		spikeAt  int    // index among the output rows
		wantWarn string // in the reports
	}{
		{"rfc3339 with header", makeCSV(600, true, time.RFC3339, 400), false, "", 600, 400, ""},
		{"space layout, no header", makeCSV(600, false, "2006-01-02 15:04:05", 450), false, "", 600, 450, ""},
		{"ClickHouse CSVWithNames, quoted times", withSpike(600, 450, "\"event_time\",\"value\"\n", chQuoted, nil), false, "", 600, 450, ""},
		{"quoted times, no header: the first row is data", withSpike(600, 450, "", chQuoted, nil), false, "", 600, 450, ""},
		{"Unix seconds", withSpike(600, 450, "", unix, nil), false, "", 600, 450, ""},
		{"Unix milliseconds", withSpike(600, 450, "ts,value\n", millis, nil), false, "", 600, 450, ""},
		{"header names pick the columns", reordered, false, "", 600, 450, ""},
		{"NaN before a spike is skipped, the spike still found", withSpike(600, 450, "", rfc, map[int]string{435: rfc(at(435)) + ",NaN"}), false, "", 599, 449, "line 436: value NaN: skipped"},
		{"Inf skipped", withSpike(600, 450, "", rfc, map[int]string{300: rfc(at(300)) + ",+Inf"}), false, "", 599, 449, "line 301: value +Inf"},
		{"time going back skipped", withSpike(600, 450, "", rfc, map[int]string{300: rfc(at(10)) + ",100"}), false, "", 599, 449, "line 301: time 2026-01-01T00:10:00Z is not after"},
		{"strict: NaN is an error", withSpike(600, 450, "", rfc, map[int]string{435: rfc(at(435)) + ",NaN"}), true, "line 436: value NaN (-strict)", 0, -1, ""},
		{"bad value", "2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,x\n", false, `line 2: value "x" is not a number`, 0, -1, ""},
		{"bad time after the first line", "2026-01-01T00:00:00Z,1\nyesterday,2\n", false, `line 2: timestamp "yesterday"`, 0, -1, ""},
		{"bad time on the first line is not a header", "yesterday,2\n2026-01-01T00:00:00Z,1\n", false, `line 1: timestamp "yesterday"`, 0, -1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg series.Config
			cfg.SetDefaults()
			var out, warn bytes.Buffer
			err := score(context.Background(), &cfg, input{Strict: tt.strict, Warn: &warn, MaxWarnings: 20}, strings.NewReader(tt.in), &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(warn.String(), tt.wantWarn) || (tt.wantWarn == "" && warn.Len() > 0) {
				t.Fatalf("reports %q, want %q", warn.String(), tt.wantWarn)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if lines[0] != "timestamp,value,anomaly_score" || len(lines)-1 != tt.rows {
				t.Fatalf("header %q, %d rows, want %d", lines[0], len(lines)-1, tt.rows)
			}
			for i, l := range lines[1:] {
				f := strings.Split(l, ",")
				s, err := strconv.ParseFloat(f[2], 64)
				if err != nil || s < 0 || s > 1 {
					t.Fatalf("row %d score %q", i, f[2])
				}
				if i == tt.spikeAt && s < 0.5 {
					t.Errorf("spike at %d scored %v", i, s)
				}
				if i > 100 && i != tt.spikeAt && i != tt.spikeAt+1 && s >= 0.5 {
					t.Errorf("normal point %d scored %v", i, s)
				}
			}
		})
	}
}

// TestUsage: -h prints help and exits 0 without reading input; bad flags
// and settings exit 2 naming them.
func TestUsage(t *testing.T) {
	tests := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Picking a threshold"},
		{[]string{"-nope"}, 2, "-nope"},
		{[]string{"-seasons", "daily"}, 2, "-seasons"},
		{[]string{"-range", "-1"}, 2, "range -1"},
		{[]string{"a.csv", "b.csv"}, 2, "one input file"},
		{[]string{"/does/not/exist.csv"}, 1, "no such file"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(tt.args, strings.NewReader(""), &out, &errb)
		if code != tt.code || !strings.Contains(errb.String()+out.String(), tt.want) {
			t.Errorf("%v: exit %d, output %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
		}
	}
}

// BenchmarkRun20k is the speed target: 20,000 points well under a second.
func BenchmarkRun20k(b *testing.B) {
	in := makeCSV(20000, true, time.RFC3339, 10000)
	var cfg series.Config
	cfg.SetDefaults()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := score(context.Background(), &cfg, input{}, strings.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSameScoresAsLiveDetector: tributary-detect and the live metric
// detector (teledetect) give every point of a series the same score, so
// what a user tries on an export is what the service will do.
func TestSameScoresAsLiveDetector(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	t0 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	var in strings.Builder
	in.WriteString("timestamp,value\n")
	var events []stream.Event
	for i := range 3000 {
		at := t0.Add(time.Duration(i) * time.Minute)
		v := 50 + 10*math.Sin(2*math.Pi*float64(i)/1440) + 2*rng.NormFloat64()
		switch {
		case i >= 2000 && i < 2005:
			v += 30
		case i >= 2500:
			v -= 25
		}
		v = math.Round(v*1000) / 1000
		fmt.Fprintf(&in, "%s,%g\n", at.Format(time.RFC3339), v)
		events = append(events, stream.Event{ID: fmt.Sprint(i), Tenant: "acme", Time: at,
			Payload: schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "h1", Service: "api"}, Name: "cpu", Value: v}})
	}

	code, out, errb := 0, new(bytes.Buffer), new(bytes.Buffer)
	if code = run(nil, strings.NewReader(in.String()), out, errb); code != 0 {
		t.Fatalf("tributary-detect exit %d: %s", code, errb)
	}
	var cli []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n")[1:] {
		cli = append(cli, l[strings.LastIndexByte(l, ',')+1:])
	}

	d, err := teledetect.New(teledetect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var live []string
	alerts := 0
	d.Trace = func(_, _ string, _ time.Time, _ float64, r series.Result) {
		live = append(live, strconv.FormatFloat(r.Score, 'f', 6, 64))
		if r.Alert {
			alerts++
		}
	}
	for _, e := range events {
		d.Observe(e)
	}
	if len(cli) != len(live) {
		t.Fatalf("%d scores from tributary-detect, %d from the live detector", len(cli), len(live))
	}
	for i := range cli {
		if cli[i] != live[i] {
			t.Fatalf("point %d: tributary-detect %s, live detector %s", i, cli[i], live[i])
		}
	}
	if alerts == 0 {
		t.Error("the series' spike and drop raised no alert: the comparison proves little")
	}
}

// -plot draws the series and its scores to SVG or PNG; other extensions
// are refused before any work.
func TestPlot(t *testing.T) {
	in := makeCSV(600, true, time.RFC3339, 450)
	dir := t.TempDir()
	for _, name := range []string{"s.svg", "s.png"} {
		path := filepath.Join(dir, name)
		var out, errb bytes.Buffer
		if code := run([]string{"-plot", path}, strings.NewReader(in), &out, &errb); code != 0 {
			t.Fatalf("%s: exit %d: %s", name, code, errb.String())
		}
		b, err := os.ReadFile(path)
		if err != nil || len(b) < 1000 {
			t.Fatalf("%s: %d bytes, %v", name, len(b), err)
		}
		if name == "s.svg" && !bytes.Contains(b, []byte("<svg")) {
			t.Errorf("%s is not SVG", name)
		}
		if name == "s.png" && !bytes.HasPrefix(b, []byte("\x89PNG")) {
			t.Errorf("%s is not PNG", name)
		}
	}
	var errb bytes.Buffer
	if code := run([]string{"-plot", filepath.Join(dir, "s.gif")}, strings.NewReader(in), io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "want a .svg or .png") {
		t.Errorf("gif: exit %d, %q", code, errb.String())
	}
}
