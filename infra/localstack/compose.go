package localstack

import (
	"context"
	"fmt"
	"os/exec"
	"time"
)

// DockerReachable reports whether a Docker engine answers; the client alone
// is not enough (machines here have the client but no engine).
func DockerReachable(ctx context.Context) bool {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	return exec.CommandContext(ctx, "docker", "info", "--format", "{{.ServerVersion}}").Run() == nil
}

// Compose runs the same three servers as containers from infra/compose.
type Compose struct {
	File string
	cfg  Config
}

// NewCompose uses the compose file at path; ports and the env file come from cfg.
func NewCompose(path string, cfg Config) (*Compose, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Compose{File: path, cfg: cfg}, nil
}

// Up starts the containers, waits for their health checks and writes the
// same env file the local processes would.
func (c *Compose) Up(ctx context.Context) (Endpoints, error) {
	cmd := exec.CommandContext(ctx, "docker", "compose", "-f", c.File, "up", "-d", "--wait")
	if out, err := cmd.CombinedOutput(); err != nil {
		return Endpoints{}, fmt.Errorf("docker compose up: %w\n%s", err, out)
	}
	ep := Endpoints{
		NATSURL:        fmt.Sprintf("nats://127.0.0.1:%d", c.cfg.NATSPort),
		KafkaBrokers:   fmt.Sprintf("127.0.0.1:%d", c.cfg.KafkaPort),
		ClickHouseAddr: fmt.Sprintf("127.0.0.1:%d", c.cfg.ClickHouseTCPPort),
		ClickHouseHTTP: fmt.Sprintf("http://127.0.0.1:%d", c.cfg.ClickHouseHTTPPort),
		Versions:       map[string]string{},
	}
	if v, err := (natsServer{c.cfg}).version(ctx); err == nil {
		ep.Versions[NATS] = v
	}
	if v, err := (clickhouseServer{c.cfg}).version(ctx); err == nil {
		ep.Versions[ClickHouse] = v
	}
	return ep, writeEnvFile(c.cfg.EnvFile(), ep)
}

// Down removes the containers; volumes are kept.
func (c *Compose) Down(ctx context.Context) error {
	cmd := exec.CommandContext(ctx, "docker", "compose", "-f", c.File, "down")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("docker compose down: %w\n%s", err, out)
	}
	return nil
}
