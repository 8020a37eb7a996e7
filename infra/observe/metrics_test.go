package observe

import (
	"errors"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
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
