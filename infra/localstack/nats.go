package localstack

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

type natsServer struct{ cfg Config }

func (s natsServer) name() string   { return NATS }
func (s natsServer) ports() []int   { return []int{s.cfg.NATSPort, s.cfg.NATSMonitorPort} }
func (s natsServer) dir() string    { return s.cfg.path("nats") }
func (s natsServer) conf() string   { return filepath.Join(s.dir(), "nats.conf") }
func (s natsServer) binary() string { return s.cfg.toolsPath("bin", "nats-server") }

func (s natsServer) proc() process {
	return process{name: NATS, pidFile: filepath.Join(s.dir(), "pid"), logFile: filepath.Join(s.dir(), "nats.log"), marker: s.conf()}
}

func (s natsServer) prepare(ctx context.Context) error {
	if err := os.MkdirAll(filepath.Join(s.dir(), "jetstream"), 0o755); err != nil {
		return fmt.Errorf("prepare nats: %w", err)
	}
	if err := s.install(ctx); err != nil {
		return err
	}
	abs, err := filepath.Abs(filepath.Join(s.dir(), "jetstream"))
	if err != nil {
		return fmt.Errorf("prepare nats: %w", err)
	}
	sync := ""
	if s.cfg.JetStreamSync == SyncAlways {
		sync = "  sync_interval: always\n"
	}
	// max_payload is raised above the 1 MiB default so a maximum-size event
	// plus its headers still fits.
	conf := fmt.Sprintf(`# Written by tributary-stack; edits are overwritten.
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
max_payload: 8MB
jetstream {
  store_dir: %q
%s}
`, s.cfg.NATSPort, s.cfg.NATSMonitorPort, abs, sync)
	if !s.cfg.Secure {
		return writeIfChanged(s.conf(), conf)
	}
	block, err := natsSecurity(s.cfg)
	if err != nil {
		return fmt.Errorf("prepare nats: %w", err)
	}
	// It holds passwords: readable by the stack's user only.
	return writePrivateIfChanged(s.conf(), conf+block)
}

// install builds the official server from its Go module at a pinned version;
// the module proxy is the only download this needs.
func (s natsServer) install(ctx context.Context) error {
	if out, err := exec.CommandContext(ctx, s.binary(), "--version").Output(); err == nil &&
		strings.Contains(string(out), NATSServerVersion) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.InstallTimeout)
	defer cancel()
	bin, err := filepath.Abs(filepath.Dir(s.binary()))
	if err != nil {
		return fmt.Errorf("install nats-server: %w", err)
	}
	cmd := exec.CommandContext(ctx, "go", "install", NATSServerModule+"@"+NATSServerVersion)
	// Outside any module, so the workspace's go.work cannot interfere.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOBIN="+bin, "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("install nats-server %s with go install: %w\n%s", NATSServerVersion, err, out)
	}
	return nil
}

func (s natsServer) command() *exec.Cmd {
	return exec.Command(s.binary(), "--config", s.conf())
}

func (s natsServer) ready(ctx context.Context) error {
	// healthz with js-enabled-only fails until JetStream is up, not just the port.
	url := fmt.Sprintf("http://127.0.0.1:%d/healthz?js-enabled-only=true", s.cfg.NATSMonitorPort)
	_, err := httpGet(ctx, url)
	return err
}

func (s natsServer) version(ctx context.Context) (string, error) {
	body, err := httpGet(ctx, fmt.Sprintf("http://127.0.0.1:%d/varz", s.cfg.NATSMonitorPort))
	if err != nil {
		return "", err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("decode nats varz: %w", err)
	}
	return v.Version, nil
}

func httpGet(ctx context.Context, url string) ([]byte, error) {
	return httpGetAuth(ctx, url, "", "")
}

// httpGetAuth sends basic authentication when user is set; errors name the
// URL, never the password.
func httpGetAuth(ctx context.Context, url, user, password string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if user != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("GET %s: %w", url, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return body, nil
}

// writeIfChanged avoids touching configs whose content is already right.
func writeIfChanged(path, content string) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == content {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, []byte(content), 0o644)
}

// writePrivateIfChanged is writeIfChanged for files holding secrets (0600).
func writePrivateIfChanged(path, content string) error {
	if old, err := os.ReadFile(path); err == nil && string(old) == content {
		return os.Chmod(path, 0o600)
	}
	return writeFileAtomic(path, []byte(content), 0o600)
}

// NATSServerBinary installs the pinned nats-server into the tools folder
// when it is missing and returns its path: for tests that run a server of
// their own configuration (TLS, accounts).
func NATSServerBinary(ctx context.Context, cfg Config) (string, error) {
	s := natsServer{cfg: cfg}
	if err := s.install(ctx); err != nil {
		return "", err
	}
	return s.binary(), nil
}
