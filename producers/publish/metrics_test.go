package publish

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/schemas"
)

// fakeClock is the client's clock in a test; slow transports move it.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// slow is a transport whose every call takes d on the fake clock, once
// gate (if set) is closed.
type slow struct {
	clock *fakeClock
	d     time.Duration
	gate  chan struct{}
}

func (s slow) Publish(string, ...*message.Message) error {
	if s.gate != nil {
		<-s.gate
	}
	s.clock.advance(s.d)
	return nil
}

// TestTransportLatencyIsPerTransport: each transport's latency is the time
// its own broker calls took. It used to run from the Publish call (async:
// from acceptance into the shared buffer), so it held the queueing shared
// by every transport and the other destinations sent before it — and
// tributary-sim -speed -1 printed the same quantiles for JetStream and
// Kafka. The event's own latency, queueing included, is reported apart.
func TestTransportLatencyIsPerTransport(t *testing.T) {
	const (
		jsCall    = time.Millisecond
		kafkaCall = 50 * time.Millisecond
		events    = 20
	)
	tests := []struct {
		name  string
		async bool
	}{{"sync", false}, {"async with a queue", true}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := &fakeClock{t: time.Now()}
			gate := make(chan struct{})
			c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{
				schemas.TransportJetStream: slow{clock, jsCall, gate},
				schemas.TransportKafka:     slow{clock, kafkaCall, gate},
			})
			c.now = clock.now
			ctx := context.Background()
			if tt.async {
				// One worker, one event per batch, all accepted before the
				// brokers answer: the last event waits for every one
				// before it.
				a, err := c.NewAsync(AsyncConfig{Buffer: events, Workers: 1, MaxBatch: 1})
				if err != nil {
					t.Fatal(err)
				}
				for range events {
					a.Publish(ctx, anomalyEvent(t)) // anomalies go to both transports
				}
				close(gate)
				if err := a.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				close(gate)
				for range events {
					if _, err := c.Publish(ctx, anomalyEvent(t)); err != nil {
						t.Fatal(err)
					}
				}
			}
			m := c.Metrics()
			for tr, want := range map[schemas.Transport]time.Duration{schemas.TransportJetStream: jsCall, schemas.TransportKafka: kafkaCall} {
				l := m.Transports[tr].Latency
				if l.Count != events {
					t.Errorf("%s: %d latencies, want %d", tr, l.Count, events)
				}
				// Every call took exactly want: the largest and the mean
				// are exact, the quantiles within the histogram's 5%.
				if l.Max != want || l.Mean != want {
					t.Errorf("%s: latency max %s mean %s, want %s: not this transport's calls alone", tr, l.Max, l.Mean, want)
				}
				if lo, hi := want*94/100, want*106/100; l.P50 < lo || l.P50 > hi || l.P99 < lo || l.P99 > hi {
					t.Errorf("%s: latency p50 %s p99 %s, want about %s", tr, l.P50, l.P99, want)
				}
			}
			// The event's latency covers both destinations, and in async
			// mode the wait in the buffer: the last event waited for all.
			wantMax := jsCall + kafkaCall
			if tt.async {
				wantMax = events * (jsCall + kafkaCall)
			}
			if m.Latency.Count != events || m.Latency.Max != wantMax {
				t.Errorf("event latency: %d observed, max %s; want %d, max %s", m.Latency.Count, m.Latency.Max, events, wantMax)
			}
		})
	}
}
