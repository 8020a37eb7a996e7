package ingest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/schemas"
)

func TestHandlerMetricsCountsByOutcome(t *testing.T) {
	var m HandlerMetrics
	results := []error{nil, nil, errors.New("clickhouse down"), fmt.Errorf("decode: %w", schemas.ErrMalformed), nil}
	var i int
	var mu sync.Mutex
	h := m.Middleware(IsPoison)(func(*message.Message) ([]*message.Message, error) {
		mu.Lock()
		defer mu.Unlock()
		err := results[i]
		i++
		time.Sleep(time.Millisecond)
		return nil, err
	})
	for range results {
		_, _ = h(message.NewMessage("x", nil))
	}
	s := m.Snapshot()
	if s.Handled != 3 || s.Failed != 1 || s.Poisoned != 1 {
		t.Fatalf("snapshot = %+v, want 3 handled, 1 failed, 1 poisoned", s)
	}
	if s.LatencyP50 < time.Millisecond || s.LatencyP99 > s.LatencyMax || s.LatencyMean <= 0 {
		t.Fatalf("latency summary %+v is inconsistent", s)
	}
}

func TestHandlerMetricsConcurrent(t *testing.T) {
	var m HandlerMetrics
	h := m.Middleware(nil)(func(*message.Message) ([]*message.Message, error) { return nil, nil })
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 1000 {
				_, _ = h(message.NewMessage("x", nil))
			}
		})
	}
	wg.Wait()
	if s := m.Snapshot(); s.Handled != 8000 {
		t.Fatalf("handled = %d, want 8000", s.Handled)
	}
}

func TestLatencyBuckets(t *testing.T) {
	for _, d := range []time.Duration{0, time.Microsecond, 15 * time.Microsecond, time.Millisecond, time.Second, 100 * time.Hour} {
		i := bucketOf(d)
		if i < 0 || i >= latencyBuckets {
			t.Fatalf("bucketOf(%s) = %d out of range", d, i)
		}
		if i < latencyBuckets-1 && bucketUpper(i) < d {
			t.Errorf("bucketUpper(%d) = %s below %s", i, bucketUpper(i), d)
		}
	}
}
