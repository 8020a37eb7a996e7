package testenv

import (
	"context"
	"fmt"
	"log/slog"
	"os"

	"github.com/tributary-io/tributary/infra/localstack"
)

// SecureStack is a private secure local stack (tributary-stack -secure):
// TLS from its own CA, users and permissions on every server.
type SecureStack struct {
	Config    localstack.Config
	Endpoints localstack.Endpoints
	stack     *localstack.Stack
}

// StartSecureStack starts a secure stack in dir with every default port
// shifted by portOffset, sharing the tools (nats-server, Kafka's jars)
// of the repository's stack. Stop it with Down. It takes no testing.TB,
// so a TestMain can share one among a package's tests.
func StartSecureStack(ctx context.Context, dir string, portOffset int) (*SecureStack, error) {
	tools, err := stackDir()
	if err != nil {
		return nil, fmt.Errorf("secure stack: %w", err)
	}
	cfg := localstack.DefaultConfig().WithPortOffset(portOffset)
	cfg.Dir, cfg.ToolsDir, cfg.Secure, cfg.KafkaHeap = dir, tools, true, "512m"
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	stack, err := localstack.New(cfg, log)
	if err != nil {
		return nil, fmt.Errorf("secure stack: %w", err)
	}
	s := &SecureStack{Config: cfg, stack: stack}
	if s.Endpoints, err = stack.Up(ctx); err != nil {
		_ = stack.Down(context.Background())
		return nil, fmt.Errorf("secure stack in %s (port offset %d): %w", dir, portOffset, err)
	}
	return s, nil
}

// Identity returns the variables of one user's env file (<dir>/env.<user>),
// what `set -a; . <dir>/env.<user>` would export.
func (s *SecureStack) Identity(user string) (map[string]string, error) {
	return localstack.ReadEnvFile(s.Config.UserEnvFile(user))
}

// Down stops the stack's servers.
func (s *SecureStack) Down() error { return s.stack.Down(context.Background()) }
