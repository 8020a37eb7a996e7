package publish

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/schemas"
)

// scripted is a concurrency-safe fake transport: errs[i] is the outcome of
// call i (nil or missing: success); gate, if set, holds every call until
// it is closed, to fill the async buffer.
type scripted struct {
	mu    sync.Mutex
	errs  []error
	errOf func(msgs []*message.Message) error // per-call override, for batch tests
	gate  chan struct{}
	calls int
	sent  []string // event ids acked, in order
	sizes []int    // messages per call
}

func (s *scripted) Publish(_ string, msgs ...*message.Message) error {
	if s.gate != nil {
		<-s.gate
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.calls
	s.calls++
	s.sizes = append(s.sizes, len(msgs))
	var err error
	if i < len(s.errs) {
		err = s.errs[i]
	}
	if s.errOf != nil {
		err = s.errOf(msgs)
	}
	if err != nil {
		return err
	}
	for _, m := range msgs {
		s.sent = append(s.sent, m.UUID)
	}
	return nil
}

func (s *scripted) snapshot() (calls int, sent []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls, append([]string(nil), s.sent...)
}

// testClient is a client over fakes whose backoff waits are recorded, not
// slept, and have no jitter.
func testClient(t *testing.T, retry RetryConfig, transports map[schemas.Transport]Transport) (*Client, *[]time.Duration) {
	t.Helper()
	c, err := New(Config{Source: "//tributary/sdk-test", Retry: retry}, transports)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	waits := &[]time.Duration{}
	c.jitter = func(d time.Duration) time.Duration { return d }
	c.sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		*waits = append(*waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	return c, waits
}

func loginEvent(t *testing.T) schemas.Envelope {
	t.Helper()
	return event(t, schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "198.51.100.4"},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
}

func contains(err error, s string) bool {
	return err != nil && strings.Contains(err.Error(), s)
}
