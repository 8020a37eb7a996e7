package localstack

import (
	"context"
	"os/exec"
)

// server is one kind of real server the stack runs.
type server interface {
	// name is one of NATS, Kafka, ClickHouse.
	name() string
	// ports lists what the server binds; all must be free before a start.
	ports() []int
	// prepare installs binaries and writes configs; it is idempotent and
	// safe while the server runs.
	prepare(ctx context.Context) error
	command() *exec.Cmd
	// ready succeeds once the server serves clients.
	ready(ctx context.Context) error
	version(ctx context.Context) (string, error)
	proc() process
}

// Server names, as used by Start, Stop, Kill and Restart.
const (
	NATS       = "nats"
	Kafka      = "kafka"
	ClickHouse = "clickhouse"
)

// initializer is a server with a one-time setup that needs no shared tool
// lock (Kafka's storage format), so nodes can do it at once.
type initializer interface {
	initialize(ctx context.Context) error
}

// configurer is a server with settings applied through its own API once it
// answers (Kafka's ACLs); configure is idempotent.
type configurer interface {
	configure(ctx context.Context) error
}
