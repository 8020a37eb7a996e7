// Package daemon is what every long-running Tributary binary shares at run
// time: the health of its Watermill handlers, and the operator endpoint
// serving /metrics, /healthz, /readyz and /debug/pprof/.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/observe"
)

// Health tells whether a service's router runs and every handler it
// registered is still running. A handler stops on its own when its
// subscription ends (a JetStream durable deleted, a subscriber closed); the
// router keeps running the others, so without this a service would say ok
// while part of it consumes nothing. Safe for concurrent use.
type Health struct {
	router *message.Router
	mu     sync.Mutex
	names  []string
	hs     map[string]Handler
	checks []namedCheck
}

// Handler is what Health watches of a handler: *message.Handler, or a
// handler run beside the router (ingest's batch path) with the same
// meaning: Started is closed once it is subscribed, Stopped once it ended.
type Handler interface {
	Started() chan struct{}
	Stopped() chan struct{}
}

type namedCheck struct {
	name string
	f    func() error
}

// NewHealth watches r.
func NewHealth(r *message.Router) *Health {
	return &Health{router: r, hs: map[string]Handler{}}
}

// Track adds a handler to watch.
func (h *Health) Track(name string, handler Handler) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.names = append(h.names, name)
	h.hs[name] = handler
}

// Check adds a condition Live reports: f returns nil while healthy. It is
// for work a service does beside its handlers (the detectors' checkpoints),
// whose failure would otherwise be a log line only. f must be quick and
// safe for concurrent use.
func (h *Health) Check(name string, f func() error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.checks = append(h.checks, namedCheck{name, f})
}

// Live is nil while the router runs, no handler has stopped and every
// Check passes.
func (h *Health) Live() error {
	if !h.router.IsRunning() {
		return errors.New("router not running")
	}
	h.mu.Lock()
	var stopped []string
	for _, n := range h.names {
		select {
		case <-h.hs[n].Stopped():
			stopped = append(stopped, n)
		default:
		}
	}
	checks := slices.Clone(h.checks)
	h.mu.Unlock()
	var errs []error
	if len(stopped) > 0 {
		slices.Sort(stopped)
		errs = append(errs, fmt.Errorf("handlers stopped: %v", stopped))
	}
	for _, c := range checks {
		if err := c.f(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// Ready is nil once the router runs and every handler has started (it is
// subscribed), and while it stays live.
func (h *Health) Ready() error {
	if err := h.Live(); err != nil {
		return err
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.names {
		select {
		case <-h.hs[n].Started():
		default:
			return fmt.Errorf("handler %s not started", n)
		}
	}
	return nil
}

// Endpoint is the operator endpoint of one service.
type Endpoint struct {
	Addr    string // host:port; bind it to loopback or a private interface
	Metrics *observe.Metrics
	Health  *Health
	// Routes are more handlers by pattern ("GET /debug/ingest").
	Routes map[string]http.Handler
	// Contention turns on the block and mutex profiles
	// (/debug/pprof/block, /debug/pprof/mutex: where goroutines wait, not
	// where they burn CPU) and serves /debug/pprof/trace. Off by default:
	// sampling every wait costs a little on every channel operation.
	Contention bool
}

// Serve starts the endpoint; stop shuts it down. An empty Addr serves
// nothing.
func (e Endpoint) Serve(log *slog.Logger) (stop func() error, err error) {
	if e.Addr == "" {
		return func() error { return nil }, nil
	}
	ln, err := net.Listen("tcp", e.Addr)
	if err != nil {
		return nil, fmt.Errorf("operator endpoint: %w", err)
	}
	mux := http.NewServeMux()
	if e.Metrics != nil {
		mux.Handle("GET /metrics", e.Metrics.Handler())
	}
	if e.Health != nil {
		mux.HandleFunc("GET /healthz", check(e.Health.Live))
		mux.HandleFunc("GET /readyz", check(e.Health.Ready))
	}
	// Profiles on the same opt-in endpoint: memory is bounded by in-flight
	// messages, and this is how to see by what.
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	if e.Contention {
		// A blocking event is sampled about once per 10µs spent blocked;
		// one mutex contention in 100.
		runtime.SetBlockProfileRate(int(10 * time.Microsecond))
		runtime.SetMutexProfileFraction(100)
		mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	for pattern, h := range e.Routes {
		mux.Handle(pattern, h)
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Warn("operator endpoint stopped", "err", err)
		}
	}()
	log.Info("operator endpoint", "addr", "http://"+ln.Addr().String(), "paths", "/metrics /healthz /readyz")
	return func() error {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	}, nil
}

func check(f func() error) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if err := f(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte("ok\n"))
	}
}
