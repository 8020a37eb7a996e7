package observe

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/prometheus/client_golang/prometheus"
)

var errPoison = errors.New("poison")

func TestMiddlewareCountsOutcomes(t *testing.T) {
	m := New("test")
	results := []error{nil, nil, errors.New("down"), errPoison}
	i := 0
	h := m.Middleware("auth_events", func(err error) bool { return errors.Is(err, errPoison) })(
		func(*message.Message) ([]*message.Message, error) { err := results[i]; i++; return nil, err })
	for range results {
		_, _ = h(message.NewMessage("x", nil))
	}
	body := scrape(t, m)
	for _, want := range []string{
		`tributary_messages_total{handler="auth_events",outcome="acked",service="test"} 2`,
		`tributary_messages_total{handler="auth_events",outcome="nacked",service="test"} 1`,
		`tributary_messages_total{handler="auth_events",outcome="dead_lettered",service="test"} 1`,
		`tributary_handler_seconds_count{handler="auth_events",service="test"} 4`,
		`go_goroutines`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
}

func TestSummarize(t *testing.T) {
	m := New("test")
	h := m.Flush.WithLabelValues("t")
	for i := range 100 {
		h.Observe(float64(i+1) / 1000) // 1..100 ms
	}
	s := Summarize(h)
	if s.Count != 100 {
		t.Fatalf("count %d", s.Count)
	}
	if s.Mean < 45*time.Millisecond || s.Mean > 55*time.Millisecond {
		t.Errorf("mean %s, want ~50ms", s.Mean)
	}
	// Buckets are a factor of 2 apart: quantiles are right within one.
	for _, c := range []struct {
		got, want time.Duration
	}{{s.P50, 50 * time.Millisecond}, {s.P90, 90 * time.Millisecond}, {s.P99, 99 * time.Millisecond}} {
		if c.got < c.want/2 || c.got > c.want*2 {
			t.Errorf("quantile %s, want about %s", c.got, c.want)
		}
	}
	if (Summarize(m.Flush.WithLabelValues("empty")) != Summary{}) {
		t.Error("an empty histogram summarised as non-zero")
	}
}

func scrape(t *testing.T, m *Metrics) string {
	t.Helper()
	srv := httptest.NewServer(m.Handler())
	defer srv.Close()
	resp, err := srv.Client().Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestLatencyQuantiles(t *testing.T) {
	ramp := func(n int, step time.Duration) []time.Duration {
		out := make([]time.Duration, n)
		for i := range out {
			out[i] = time.Duration(i+1) * step
		}
		return out
	}
	tests := []struct {
		name          string
		values        []time.Duration
		p50, p99, max time.Duration
	}{
		{name: "empty"},
		{name: "one value", values: []time.Duration{3 * time.Millisecond}, p50: 3 * time.Millisecond, p99: 3 * time.Millisecond, max: 3 * time.Millisecond},
		{name: "uniform 1..1000ms", values: ramp(1000, time.Millisecond), p50: 500 * time.Millisecond, p99: 990 * time.Millisecond, max: time.Second},
		{name: "sub-microsecond", values: []time.Duration{100, 200}, p50: 200, p99: 200, max: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := NewLatency(prometheus.HistogramOpts{})
			for _, v := range tt.values {
				l.Observe(v)
			}
			s := l.Summary()
			if s.Count != uint64(len(tt.values)) || s.Max != tt.max {
				t.Fatalf("count %d max %s, want %d %s", s.Count, s.Max, len(tt.values), tt.max)
			}
			for _, c := range []struct {
				name      string
				got, want time.Duration
			}{{"p50", s.P50, tt.p50}, {"p99", s.P99, tt.p99}} {
				if d := c.got - c.want; d < 0 && -d > c.want/20+time.Microsecond/2 || d > 0 && d > c.want/20+time.Microsecond/2 {
					t.Errorf("%s = %s, want about %s", c.name, c.got, c.want)
				}
			}
		})
	}
}
