package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
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
	return &Stack{cfg: cfg, log: log, servers: []server{natsServer{cfg}, kafkaServer{cfg}, clickhouseServer{cfg}}}, nil
}

// Endpoints are the connection settings clients need.
type Endpoints struct {
	NATSURL        string
	KafkaBrokers   string
	ClickHouseAddr string
	ClickHouseHTTP string
	// Versions by server name, as each server reported it.
	Versions map[string]string
	// Extra variables: on a secure stack the CA, the user and its password
	// file for each server.
	Extra map[string]string
}

// Up starts whatever is not running, waits for all three to answer, and
// writes the env file. It is idempotent.
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
	for _, srv := range s.servers {
		if err := s.ensure(ctx, srv); err != nil {
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

// Down stops every server and leaves no process behind. Data is kept.
func (s *Stack) Down(ctx context.Context) error {
	unlock, err := s.lock()
	if err != nil {
		return err
	}
	defer unlock()
	var errs []error
	for _, srv := range s.servers {
		s.log.InfoContext(ctx, "stopping", "server", srv.name())
		if err := srv.proc().stop(s.cfg.StopTimeout); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Status is one server's state.
type Status struct {
	Name    string
	Running bool
	PID     int
	Log     string
}

// Status reports which servers run.
func (s *Stack) Status() []Status {
	out := make([]Status, 0, len(s.servers))
	for _, srv := range s.servers {
		pid, ok := srv.proc().pid()
		out = append(out, Status{Name: srv.name(), Running: ok, PID: pid, Log: srv.proc().logFile})
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
	return nil, fmt.Errorf("localstack: unknown server %q (want %s, %s or %s)", name, NATS, Kafka, ClickHouse)
}

// ensure makes srv run and answer; the error names the server and its log.
func (s *Stack) ensure(ctx context.Context, srv server) error {
	p := srv.proc()
	fail := func(err error) error {
		return fmt.Errorf("%s: %w\nlog: %s\n%s", srv.name(), err, p.logFile, tail(p.logFile, 15))
	}
	unlock, err := lockFile(s.cfg.toolsPath("tools.lock"))
	if err != nil {
		return fail(err)
	}
	err = srv.prepare(ctx)
	unlock()
	if err != nil {
		return fail(err)
	}
	if _, running := p.pid(); !running {
		for _, port := range srv.ports() {
			if !portFreeWithin(port, 5*time.Second) {
				return fail(fmt.Errorf("port %d is taken by a process this stack did not start; stop it or change the port", port))
			}
		}
		began := time.Now()
		if err := p.start(srv.command()); err != nil {
			return fail(err)
		}
		s.log.InfoContext(ctx, "started", "server", srv.name(), "log", p.logFile)
		defer func() {
			s.log.InfoContext(ctx, "ready", "server", srv.name(), "after", time.Since(began).Round(time.Millisecond))
		}()
	}
	err = waitReady(ctx, s.cfg.ReadyTimeout, func(ctx context.Context) error {
		if _, running := p.pid(); !running {
			return errors.New("process exited")
		}
		return srv.ready(ctx)
	})
	if err != nil {
		return fail(err)
	}
	return nil
}

func (s *Stack) endpoints(ctx context.Context) (Endpoints, error) {
	ep := Endpoints{
		NATSURL:        fmt.Sprintf("nats://127.0.0.1:%d", s.cfg.NATSPort),
		KafkaBrokers:   fmt.Sprintf("127.0.0.1:%d", s.cfg.KafkaPort),
		ClickHouseAddr: fmt.Sprintf("127.0.0.1:%d", s.cfg.ClickHouseTCPPort),
		ClickHouseHTTP: fmt.Sprintf("http://127.0.0.1:%d", s.cfg.ClickHouseHTTPPort),
		Versions:       map[string]string{},
	}
	if s.cfg.Secure {
		ep.ClickHouseAddr = fmt.Sprintf("127.0.0.1:%d", s.cfg.ClickHouseTLSPort)
	}
	for _, srv := range s.servers {
		v, err := srv.version(ctx)
		if err != nil {
			return ep, fmt.Errorf("%s version: %w", srv.name(), err)
		}
		ep.Versions[srv.name()] = v
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
	for _, name := range sortedKeys(e.Versions) {
		fmt.Fprintf(&b, "TRIBUTARY_%s_VERSION=%s\n", strings.ToUpper(name), e.Versions[name])
	}
	for _, k := range sortedKeys(e.Extra) {
		fmt.Fprintf(&b, "%s=%s\n", k, e.Extra[k])
	}
	return b.String()
}

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
