package transport

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// PayloadSize is the size of every benchmark message's payload.
const PayloadSize = 1024

// Operations measured.
const (
	OpPublishConcurrent = "publish-concurrent"
	OpPublishBatch      = "publish-batch"
	OpSubscribe         = "subscribe"
)

// Result is one case: an implementation, an operation and a partition count.
type Result struct {
	Transport  string `json:"transport"` // "kafka" or "jetstream"
	Impl       string `json:"impl"`
	Op         string `json:"op"`
	Partitions int    `json:"partitions"` // Kafka partitions; 1 for JetStream
	Messages   int    `json:"messages"`   // per round
	// MsgsPerSec is the median round; Rounds holds every round.
	MsgsPerSec float64   `json:"msgs_per_sec"`
	MBPerSec   float64   `json:"mb_per_sec"`
	Rounds     []float64 `json:"rounds_msgs_per_sec"`
	// JoinMillis (subscribe only) is the median time from Subscribe to the
	// first message: group join and first fetch, not part of the rate.
	JoinMillis float64 `json:"join_ms,omitempty"`
	// Baseline names the implementation Ratio compares to, if any.
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	Err      string  `json:"error,omitempty"`
}

// publishFunc publishes n fresh messages in one call and returns once the
// broker acknowledged all of them.
type publishFunc func(ctx context.Context, n int) error

// consumeFunc reads n messages from the start of topic as a new consumer
// group, acking each, and reports when the first and last arrived.
type consumeFunc func(ctx context.Context, topic, group string, n int) (consumeTimes, error)

type consumeTimes struct {
	subscribed, first, last time.Time
}

// impl is one implementation under test. A nil field means the operation
// is not measured for it.
type impl struct {
	name string
	// publisher builds a publisher; close releases it.
	publisher func(ctx context.Context) (publish func(ctx context.Context, topic string, n int) error, close func() error, err error)
	consume   consumeFunc
}

func newPayload() []byte {
	p := make([]byte, PayloadSize)
	_, _ = rand.Read(p) // incompressible, though compression is off everywhere
	return p
}

// measurePublish publishes total messages through publish, perCall per
// call, from concurrency goroutines, and returns the elapsed time.
func measurePublish(ctx context.Context, publish publishFunc, total, perCall, concurrency int) (time.Duration, error) {
	calls := int64(total / perCall)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	start := time.Now()
	for range concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= calls {
				if err := publish(ctx, perCall); err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					mu.Unlock()
					cancel()
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), firstErr
}

// rate turns messages over elapsed into messages per second.
func rate(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rounds runs each implementation's round r in rotated order, so no
// implementation always goes first (cold caches) or last (a busier broker).
func rounds(n int, impls []string, round func(r int, impl string) error) error {
	var errs []error
	for r := range n {
		for i := range impls {
			name := impls[(i+r)%len(impls)]
			if err := round(r, name); err != nil {
				errs = append(errs, fmt.Errorf("%s round %d: %w", name, r, err))
			}
		}
	}
	return errors.Join(errs...)
}

// finish fills the median fields of res from its rounds.
func finish(res *Result, joins []float64) {
	res.MsgsPerSec = median(res.Rounds)
	res.MBPerSec = res.MsgsPerSec * PayloadSize / 1e6
	if len(joins) > 0 {
		res.JoinMillis = median(joins)
	}
}
