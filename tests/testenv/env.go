// Package testenv gives integration tests real servers: NATS JetStream, Apache
// Kafka and ClickHouse. It looks, in order, at the TRIBUTARY_* variables, a
// reachable Docker engine (testcontainers), and the local stack of
// infra/localstack, which it starts itself. A test that cannot get a server
// fails with the reason: it never skips.
package testenv

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Env describes the servers one test binary talks to.
type Env struct {
	NATSURL        string
	KafkaBrokers   []string
	ClickHouseAddr string // native protocol host:port
	ClickHouseHTTP string // http://host:port

	// Source says where the servers came from: "env", "testcontainers" or "localstack".
	Source string
	// KafkaVersion is what the provider knows of the broker's version (Kafka's
	// protocol does not report it); empty when unknown.
	KafkaVersion string
	// Replicas is how many copies of each stream and topic partition the
	// servers can hold: 3 for a cluster (PrivateCluster,
	// TRIBUTARY_REPLICAS), else 0 or 1. Pass it to provisioning.
	Replicas int

	// Servers restarts or kills a server process; nil when the provider cannot
	// (servers given by TRIBUTARY_* variables belong to someone else).
	Servers ServerControl
}

// ServerControl lets fault tests stop and start the real server processes.
type ServerControl interface {
	// Restart stops the named server gracefully and starts it again.
	Restart(name string) error
	// Kill sends SIGKILL to the named server; Start brings it back.
	Kill(name string) error
	Start(name string) error
}

// Server names accepted by ServerControl.
const (
	NATS       = "nats"
	Kafka      = "kafka"
	ClickHouse = "clickhouse"
)

var (
	once    sync.Once
	shared  *Env
	initErr error
)

// Get returns the shared servers for this test binary, or fails t with the
// reason none could be had.
func Get(t testing.TB) *Env {
	t.Helper()
	once.Do(func() { shared, initErr = resolve() })
	if initErr != nil {
		t.Fatalf("testenv: no servers for integration tests: %v", initErr)
	}
	return shared
}

// ServersOrFail returns the ServerControl or fails t saying why there is none.
func (e *Env) ServersOrFail(t testing.TB) ServerControl {
	t.Helper()
	if e.Servers == nil {
		t.Fatalf("testenv: servers from %s cannot be restarted by tests; unset TRIBUTARY_* to use the local stack", e.Source)
	}
	return e.Servers
}

// resolve tries each provider in order and keeps every reason it failed, so
// the test failure tells the whole story.
func resolve() (*Env, error) {
	if env, ok, err := fromVariables(); ok || err != nil {
		return env, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	var reasons []error
	if dockerErr := dockerHealthy(ctx); dockerErr == nil {
		env, err := fromContainers(ctx)
		if err == nil {
			return env, nil
		}
		reasons = append(reasons, fmt.Errorf("testcontainers: %w", err))
	} else {
		reasons = append(reasons, fmt.Errorf("no Docker engine for testcontainers: %w", dockerErr))
	}
	env, err := fromLocalStack(ctx)
	if err == nil {
		return env, nil
	}
	reasons = append(reasons, fmt.Errorf("local stack: %w", err))
	return nil, fmt.Errorf("TRIBUTARY_* not set, and: %w", errors.Join(reasons...))
}

// fromVariables reads TRIBUTARY_*; ok is false when none is set, and a partial
// set is an error so a typo never silently falls through to another provider.
func fromVariables() (*Env, bool, error) {
	get := func(k string) string { return strings.TrimSpace(os.Getenv(k)) }
	natsURL, brokers, chAddr := get("TRIBUTARY_NATS_URL"), get("TRIBUTARY_KAFKA_BROKERS"), get("TRIBUTARY_CLICKHOUSE_ADDR")
	if natsURL == "" && brokers == "" && chAddr == "" {
		return nil, false, nil
	}
	var missing []string
	for k, v := range map[string]string{"TRIBUTARY_NATS_URL": natsURL, "TRIBUTARY_KAFKA_BROKERS": brokers, "TRIBUTARY_CLICKHOUSE_ADDR": chAddr} {
		if v == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, true, fmt.Errorf("partial TRIBUTARY_* settings: %s not set", strings.Join(missing, ", "))
	}
	httpAddr := get("TRIBUTARY_CLICKHOUSE_HTTP")
	replicas := 0
	if v := get("TRIBUTARY_REPLICAS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, true, fmt.Errorf("TRIBUTARY_REPLICAS=%q is not a positive number", v)
		}
		replicas = n
	}
	return &Env{
		NATSURL:        natsURL,
		KafkaBrokers:   strings.Split(brokers, ","),
		ClickHouseAddr: chAddr,
		ClickHouseHTTP: httpAddr,
		Source:         "env",
		KafkaVersion:   get("TRIBUTARY_KAFKA_VERSION"),
		Replicas:       replicas,
	}, true, nil
}
