package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/processors/internal/series"
	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/processors/internal/teledetect"
	"github.com/tributary-io/tributary/schemas"
)

func csv(n int, header bool, layout string, spikeAt int) string {
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

func TestScore(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		rows    int
		spikeAt int
	}{
		{"rfc3339 with header", csv(600, true, time.RFC3339, 400), "", 600, 400},
		{"space layout, no header", csv(600, false, "2006-01-02 15:04:05", 450), "", 600, 450},
		{"bad value", "2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,x\n", "line 2", 0, -1},
		{"bad time after the first line", "2026-01-01T00:00:00Z,1\nyesterday,2\n", "line 2", 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var cfg series.Config
			cfg.SetDefaults()
			var out bytes.Buffer
			err := score(context.Background(), &cfg, strings.NewReader(tt.in), &out)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if lines[0] != "timestamp,value,anomaly_score" || len(lines)-1 != tt.rows {
				t.Fatalf("header %q, %d rows", lines[0], len(lines)-1)
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
	in := csv(20000, true, time.RFC3339, 10000)
	var cfg series.Config
	cfg.SetDefaults()
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := score(context.Background(), &cfg, strings.NewReader(in), io.Discard); err != nil {
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
