package testenv

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/tributary-io/tributary/infra/localstack"
)

// fromLocalStack starts (or reuses) the stack in the repository's .tributary
// folder, the same one `make up` uses, and leaves it running for the next
// test binary; `make down` stops it.
func fromLocalStack(ctx context.Context) (*Env, error) {
	dir, err := stackDir()
	if err != nil {
		return nil, err
	}
	cfg := localstack.DefaultConfig()
	cfg.Dir = dir
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := localstack.New(cfg, log)
	if err != nil {
		return nil, err
	}
	ep, err := stack.Up(ctx)
	if err != nil {
		return nil, err
	}
	return stackEnv(ep, "localstack "+cfg.Dir, stack), nil
}

func stackEnv(ep localstack.Endpoints, source string, stack *localstack.Stack) *Env {
	return &Env{
		NATSURL:        ep.NATSURL,
		KafkaBrokers:   strings.Split(ep.KafkaBrokers, ","),
		ClickHouseAddr: ep.ClickHouseAddr,
		ClickHouseHTTP: ep.ClickHouseHTTP,
		Source:         source,
		KafkaVersion:   ep.Versions[localstack.Kafka],
		Replicas:       ep.Replicas,
		Servers:        stackControl{stack},
	}
}

type stackControl struct{ s *localstack.Stack }

func (c stackControl) Restart(name string) error {
	return c.s.Restart(context.Background(), name)
}
func (c stackControl) Kill(name string) error { return c.s.Kill(name) }
func (c stackControl) Start(name string) error {
	return c.s.Start(context.Background(), name)
}

// stackDir is where the shared local stack lives: the repository's
// .tributary (the one `make up` uses) inside the repository, and the
// user's cache folder for a team's own module that imports this package.
func stackDir() (string, error) {
	if root, err := repoRoot(); err == nil {
		return filepath.Join(root, ".tributary"), nil
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("no repository and no cache folder for the local stack: %w", err)
	}
	return filepath.Join(cache, "tributary", "stack"), nil
}

// repoRoot walks up from the working directory (a test's package folder) to
// the folder holding go.work.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.work above the working directory: run tests inside the repository")
		}
		dir = parent
	}
}
