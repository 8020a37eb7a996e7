package daemon

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"

	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/poll"
)

// TestHealthFollowsHandlers: ready once subscribed, not healthy once a
// handler stops while the router goes on, and it says which.
func TestHealthFollowsHandlers(t *testing.T) {
	ps := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHealth(r)
	noop := func(*message.Message) error { return nil }
	h.Track("a", r.AddConsumerHandler("a", "ta", ps, noop))
	b := r.AddConsumerHandler("b", "tb", ps, noop)
	h.Track("b", b)
	if h.Live() == nil {
		t.Error("live before the router runs")
	}
	addr := freeAddr(t)
	stop, err := Endpoint{Addr: addr, Health: h, Metrics: observe.New("test")}.Serve(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	<-r.Running()
	poll.Eventually(t, 5*time.Second, 10*time.Millisecond, h.Ready)
	if code, _ := get(t, "http://"+addr+"/readyz"); code != 200 {
		t.Errorf("/readyz = %d once running", code)
	}

	b.Stop()
	poll.Eventually(t, 5*time.Second, 10*time.Millisecond, func() error {
		if h.Live() == nil {
			return errors.New("still live after handler b stopped")
		}
		return nil
	})
	code, body := get(t, "http://"+addr+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "b") {
		t.Errorf("/healthz = %d %q after handler b stopped", code, body)
	}
	if code, body := get(t, "http://"+addr+"/metrics"); code != 200 || !strings.Contains(body, "go_goroutines") {
		t.Errorf("/metrics = %d", code)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestHealthReportsChecks: a failing Check (the detectors' checkpoint)
// makes /healthz fail with its name and error; it recovers when the
// check does.
func TestHealthReportsChecks(t *testing.T) {
	ps := gochannel.NewGoChannel(gochannel.Config{}, watermill.NopLogger{})
	r, err := message.NewRouter(message.RouterConfig{}, watermill.NopLogger{})
	if err != nil {
		t.Fatal(err)
	}
	h := NewHealth(r)
	h.Track("a", r.AddConsumerHandler("a", "ta", ps, func(*message.Message) error { return nil }))
	var mu sync.Mutex
	failing := errors.New("put chunk 0 of 3: nats: timeout")
	h.Check("checkpoint", func() error {
		mu.Lock()
		defer mu.Unlock()
		return failing
	})
	addr := freeAddr(t)
	stop, err := Endpoint{Addr: addr, Health: h}.Serve(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = r.Run(ctx) }()
	<-r.Running()

	code, body := get(t, "http://"+addr+"/healthz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "checkpoint: put chunk 0 of 3") {
		t.Errorf("/healthz = %d %q with a failing check", code, body)
	}
	mu.Lock()
	failing = nil
	mu.Unlock()
	if code, body := get(t, "http://"+addr+"/healthz"); code != 200 {
		t.Errorf("/healthz = %d %q once the check passes", code, body)
	}
}
