package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Stack starts, stops and reports the local servers. Several processes may
// use one stack folder at once (parallel test binaries, `make up`): Up and
// Down hold a file lock, and Up reuses servers that already answer.
type Stack struct {
	cfg     Config
	log     *slog.Logger
	servers []server
}

// New checks cfg; it starts nothing.
func New(cfg Config, log *slog.Logger) (*Stack, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	// Absolute, because the path is how a later process recognises our
	// servers in /proc, whatever folder it runs from.
	dir, err := filepath.Abs(cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	cfg.Dir = dir
	if cfg.ToolsDir != "" {
		if cfg.ToolsDir, err = filepath.Abs(cfg.ToolsDir); err != nil {
			return nil, fmt.Errorf("localstack: %w", err)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	servers := []server{natsServer{cfg}, kafkaServer{cfg}, clickhouseServer{cfg}}
	if cfg.Cluster {
		servers = clusterServers(cfg)
	}
	return &Stack{cfg: cfg, log: log, servers: servers}, nil
}

// Endpoints are the connection settings clients need.
type Endpoints struct {
	NATSURL        string
	KafkaBrokers   string
	ClickHouseAddr string
	ClickHouseHTTP string
	// Replicas is how many copies of each stream and topic partition the
	// brokers can hold: ClusterSize for a cluster, else 1.
	Replicas int
	// Versions by server name, as each server reported it.
	Versions map[string]string
	// Extra variables: on a secure stack the CA, the user and its password
	// file for each server.
	Extra map[string]string
}

// Up starts whatever is not running, waits for all of it to answer, and
// writes the env file. It is idempotent. Every server is launched before
// any is waited for: a cluster node answers only once a quorum of its
// peers runs.
func (s *Stack) Up(ctx context.Context) (Endpoints, error) {
	unlock, err := s.lock()
	if err != nil {
		return Endpoints{}, err
	}
	defer unlock()
	if err := s.checkMode(); err != nil {
		return Endpoints{}, err
	}
	if s.cfg.Secure {
		changed, err := s.cfg.PKI().Ensure(time.Now())
		if err != nil {
			return Endpoints{}, err
		}
		if changed {
			// Servers still holding the old certificates start again with the new ones.
			for _, srv := range s.servers {
				if _, running := srv.proc().pid(); running {
					s.log.InfoContext(ctx, "new certificates: restarting", "server", srv.name())
					if err := srv.proc().stop(s.cfg.StopTimeout); err != nil {
						return Endpoints{}, err
					}
				}
			}
		}
	}
	began := make([]time.Time, len(s.servers))
	errs := make([]error, len(s.servers))
	var wg sync.WaitGroup
	for i, srv := range s.servers {
		wg.Go(func() { began[i], errs[i] = s.launch(ctx, srv) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return Endpoints{}, err
	}
	for i, srv := range s.servers {
		if err := s.awaitOrRelaunch(ctx, srv, began[i]); err != nil {
			return Endpoints{}, err
		}
		if c, ok := srv.(configurer); ok {
			if err := c.configure(ctx); err != nil {
				return Endpoints{}, fmt.Errorf("%s: %w", srv.name(), err)
			}
		}
	}
	ep, err := s.endpoints(ctx)
	if err != nil {
		return Endpoints{}, err
	}
	if !s.cfg.Secure {
		return ep, writeEnvFile(s.cfg.EnvFile(), ep)
	}
	for _, user := range s.cfg.identities() {
		if err := writeEnvFile(s.cfg.UserEnvFile(user), s.cfg.userEndpoints(ep, user)); err != nil {
			return Endpoints{}, err
		}
	}
	ep = s.cfg.userEndpoints(ep, UserAdmin)
	return ep, writeEnvFile(s.cfg.EnvFile(), ep)
}

// Down stops every server and leaves no process behind, whichever layout
// (single or cluster) started them. Data is kept.
func (s *Stack) Down(ctx context.Context) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	// All at once: a cluster node stopped after its peers would wait for
	// a quorum that is gone.
	servers := s.everyServer()
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		if _, running := srv.proc().pid(); !running {
			_ = srv.proc().stop(0) // clears a stale pid file
			continue
		}
		s.log.InfoContext(ctx, "stopping", "server", srv.name())
		wg.Go(func() { errs[i] = srv.proc().stop(s.cfg.StopTimeout) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// Status is one server's state.
type Status struct {
	Name    string
	Running bool
	PID     int
	Log     string
	// RSSKiB is the resident memory of the server's processes (its
	// session: ClickHouse's watchdog and server both count), 0 if stopped.
	RSSKiB int64
}

// Status reports which servers run.
func (s *Stack) Status() []Status {
	out := make([]Status, 0, len(s.servers))
	for _, srv := range s.servers {
		pid, ok := srv.proc().pid()
		st := Status{Name: srv.name(), Running: ok, PID: pid, Log: srv.proc().logFile}
		if ok {
			st.RSSKiB = sessionRSS(pid)
		}
		out = append(out, st)
	}
	return out
}

// Start starts one server (if it is not running) and waits for it.
func (s *Stack) Start(ctx context.Context, name string) error {
	srv, err := s.server(name)
	if err != nil {
		return err
	}
	return s.ensure(ctx, srv)
}

// Stop stops one server gracefully.
func (s *Stack) Stop(name string) error {
	srv, err := s.server(name)
	if err != nil {
		return err
	}
	return srv.proc().stop(s.cfg.StopTimeout)
}

// Kill ends one server with SIGKILL, as a crash would.
func (s *Stack) Kill(name string) error {
	srv, err := s.server(name)
	if err != nil {
		return err
	}
	return srv.proc().kill()
}

// Restart stops one server gracefully and starts it again.
func (s *Stack) Restart(ctx context.Context, name string) error {
	if err := s.Stop(name); err != nil {
		return err
	}
	return s.Start(ctx, name)
}

func (s *Stack) server(name string) (server, error) {
	for _, srv := range s.servers {
		if srv.name() == name {
			return srv, nil
		}
	}
	names := make([]string, len(s.servers))
	for i, srv := range s.servers {
		names[i] = srv.name()
	}
	return nil, fmt.Errorf("localstack: unknown server %q (want one of %s)", name, strings.Join(names, ", "))
}

// ensure makes srv run and answer; the error names the server and its log.
func (s *Stack) ensure(ctx context.Context, srv server) error {
	began, err := s.launch(ctx, srv)
	if err != nil {
		return err
	}
	return s.awaitOrRelaunch(ctx, srv, began)
}

// launch prepares srv and starts it unless it runs; began is when it was
// started, zero if it already ran.
func (s *Stack) launch(ctx context.Context, srv server) (began time.Time, err error) {
	p := srv.proc()
	unlock, err := lockFile(s.cfg.toolsPath("tools.lock"))
	if err != nil {
		return began, failed(srv, err)
	}
	err = srv.prepare(ctx)
	unlock()
	if err != nil {
		return began, failed(srv, err)
	}
	if init, ok := srv.(initializer); ok {
		if err := init.initialize(ctx); err != nil {
			return began, failed(srv, err)
		}
	}
	if _, running := p.pid(); running {
		return began, nil
	}
	for _, port := range srv.ports() {
		if !portFreeWithin(port, 5*time.Second) {
			return began, failed(srv, fmt.Errorf("port %d is taken by a process this stack did not start; stop it or change the port", port))
		}
	}
	began = time.Now()
	if err := p.start(srv.command()); err != nil {
		return began, failed(srv, err)
	}
	s.log.InfoContext(ctx, "started", "server", srv.name(), "log", p.logFile)
	return began, nil
}

// launchRetries is how often a server that exits while starting is started
// again: a port in the ephemeral range can be held for a moment by some
// outgoing connection's local end (the cluster's nodes dial each other).
const launchRetries = 2

// awaitOrRelaunch is await, starting srv again if its process exited.
func (s *Stack) awaitOrRelaunch(ctx context.Context, srv server, began time.Time) error {
	for attempt := 0; ; attempt++ {
		err := s.await(ctx, srv, began)
		if err == nil || !errors.Is(err, errExited) || attempt == launchRetries {
			return err
		}
		s.log.WarnContext(ctx, "server exited while starting; starting it again", "server", srv.name(), "attempt", attempt+1, "log", srv.proc().logFile)
		if began, err = s.launch(ctx, srv); err != nil {
			return err
		}
	}
}

// errExited is a server process that ended while it was awaited.
var errExited = errors.New("process exited")

// await waits until srv answers.
func (s *Stack) await(ctx context.Context, srv server, began time.Time) error {
	p := srv.proc()
	err := waitReady(ctx, s.cfg.ReadyTimeout, func(ctx context.Context) error {
		if why, gone := p.exited(); gone {
			return fmt.Errorf("%w: %s", errExited, why)
		}
		return srv.ready(ctx)
	})
	if err != nil {
		return failed(srv, err)
	}
	if !began.IsZero() {
		s.log.InfoContext(ctx, "ready", "server", srv.name(), "after", time.Since(began).Round(time.Millisecond))
	}
	return nil
}

// failed names the server and shows the end of its log.
func failed(srv server, err error) error {
	p := srv.proc()
	return fmt.Errorf("%s: %w\nlog: %s\n%s", srv.name(), err, p.logFile, tail(p.logFile, 15))
}

func (s *Stack) endpoints(ctx context.Context) (Endpoints, error) {
	ep := Endpoints{
		NATSURL:        fmt.Sprintf("nats://127.0.0.1:%d", s.cfg.NATSPort),
		KafkaBrokers:   fmt.Sprintf("127.0.0.1:%d", s.cfg.KafkaPort),
		ClickHouseAddr: fmt.Sprintf("127.0.0.1:%d", s.cfg.ClickHouseTCPPort),
		ClickHouseHTTP: fmt.Sprintf("http://127.0.0.1:%d", s.cfg.ClickHouseHTTPPort),
		Replicas:       1,
		Versions:       map[string]string{},
	}
	if s.cfg.Cluster {
		s.clusterEndpoints(&ep)
	}
	if s.cfg.Secure {
		ep.ClickHouseAddr = fmt.Sprintf("127.0.0.1:%d", s.cfg.ClickHouseTLSPort)
	}
	for _, srv := range s.servers {
		v, err := srv.version(ctx)
		if err != nil {
			return ep, fmt.Errorf("%s version: %w", srv.name(), err)
		}
		// A cluster's nodes (nats-1, nats-2, …) report under their kind.
		kind, _, _ := strings.Cut(srv.name(), "-")
		ep.Versions[kind] = v
	}
	return ep, nil
}

// lock serialises Up and Down across processes sharing the folder.
func (s *Stack) lock() (func(), error) {
	return lockFile(filepath.Join(s.cfg.Dir, "lock"))
}

// lockFile takes an exclusive flock; installs into a shared ToolsDir hold
// one so two stacks never write the same binary or classpath at once.
func lockFile(path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("localstack: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("localstack: lock: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("localstack: lock: %w", err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// Env renders the endpoints as KEY=value lines, the env file's format.
func (e Endpoints) Env() string {
	var b strings.Builder
	for _, kv := range [][2]string{{"TRIBUTARY_NATS_URL", e.NATSURL}, {"TRIBUTARY_KAFKA_BROKERS", e.KafkaBrokers},
		{"TRIBUTARY_CLICKHOUSE_ADDR", e.ClickHouseAddr}, {"TRIBUTARY_CLICKHOUSE_HTTP", e.ClickHouseHTTP}} {
		if kv[1] != "" { // an identity without rights on a server gets no address for it
			fmt.Fprintf(&b, "%s=%s\n", kv[0], kv[1])
		}
	}
	if e.Replicas > 1 {
		// TRIBUTARY_REPLICAS is the binaries' -replicas setting: streams
		// and topics get that many copies when they are provisioned.
		fmt.Fprintf(&b, "TRIBUTARY_CLUSTER=1\nTRIBUTARY_REPLICAS=%d\n", e.Replicas)
	}
	for _, name := range sortedKeys(e.Versions) {
		fmt.Fprintf(&b, "TRIBUTARY_%s_VERSION=%s\n", strings.ToUpper(name), e.Versions[name])
	}
	for _, k := range sortedKeys(e.Extra) {
		fmt.Fprintf(&b, "%s=%s\n", k, e.Extra[k])
	}
	return b.String()
}

// WriteEnvFile replaces the env file at path with ep, atomically: a tool
// that combines stacks (tributary-stack -cluster with its ClickHouse
// cluster) rewrites the one env file every binary reads.
func WriteEnvFile(path string, ep Endpoints) error { return writeEnvFile(path, ep) }

func writeEnvFile(path string, ep Endpoints) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(ep.Env()), 0o644); err != nil {
		return fmt.Errorf("write env file: %w", err)
	}
	return os.Rename(tmp, path)
}

// ReadEnvFile parses an env file written by Up or by the compose path.
func ReadEnvFile(path string) (map[string]string, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(raw), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("env file %s: line %q has no '='", path, line)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}
