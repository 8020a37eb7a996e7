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

	"github.com/tributary-io/tributary/processors/internal/robust"
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

func TestRun(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		wantErr string
		rows    int
		spikeAt int
	}{
		{"rfc3339 with header", csv(300, true, time.RFC3339, 200), "", 300, 200},
		{"space layout, no header", csv(300, false, "2006-01-02 15:04:05", 250), "", 300, 250},
		{"bad value", "2026-01-01T00:00:00Z,1\n2026-01-01T00:01:00Z,x\n", "line 2", 0, -1},
		{"bad time after the first line", "2026-01-01T00:00:00Z,1\nyesterday,2\n", "line 2", 0, -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(context.Background(), robust.Config{}, strings.NewReader(tt.in), &out)
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
				if i == tt.spikeAt && s < 0.9 {
					t.Errorf("spike at %d scored %v", i, s)
				}
				if i != tt.spikeAt && i != tt.spikeAt+1 && s > 0.5 {
					t.Errorf("normal point %d scored %v", i, s)
				}
			}
		})
	}
}

// BenchmarkRun20k is the speed target: 20,000 points well under a second.
func BenchmarkRun20k(b *testing.B) {
	in := csv(20000, true, time.RFC3339, 10000)
	b.SetBytes(int64(len(in)))
	b.ReportAllocs()
	for b.Loop() {
		if err := run(context.Background(), robust.Config{}, strings.NewReader(in), io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
