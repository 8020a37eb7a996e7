// Package localstack runs the platform's real servers as local processes, so
// a machine without Docker can develop and test against NATS JetStream,
// Apache Kafka (KRaft) and ClickHouse. All state lives in one folder.
package localstack

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"
)

// Versions the stack installs when nothing suitable is already on the machine.
const (
	// NATSServerModule is built with `go install`, so the module proxy is enough.
	NATSServerModule  = "github.com/nats-io/nats-server/v2"
	NATSServerVersion = "v2.15.2"
)

// JetStream fsync policies. The server default syncs every two minutes, so a
// power failure can lose acknowledged writes; "always" fsyncs every write at a
// large cost in publish throughput.
const (
	SyncDefault = "default"
	SyncAlways  = "always"
)

// Config places the servers. Ports bind to 127.0.0.1 only.
type Config struct {
	// Dir holds configs, data, logs, pid files and the env file.
	Dir string
	// ToolsDir holds what is installed rather than run: the nats-server
	// binary and Kafka's resolved classpath. Empty means Dir; stacks that
	// share one (a test's private stack and the main one) install once.
	ToolsDir string

	NATSPort        int
	NATSMonitorPort int
	// JetStreamSync is SyncDefault or SyncAlways.
	JetStreamSync string

	KafkaPort           int
	KafkaControllerPort int
	// KafkaHeap is the JVM heap size, e.g. "1g".
	KafkaHeap string
	// KafkaPartitions is the broker's default for auto-created topics.
	KafkaPartitions int

	ClickHouseTCPPort  int
	ClickHouseHTTPPort int
	// ClickHouseTLSPort is the secure native port (tcp_port_secure) of a
	// secure stack, which then has no plaintext native port.
	ClickHouseTLSPort int

	// Secure starts the servers with TLS, users and permissions (a local
	// CA, NATS users with subject permissions, Kafka SASL_SSL with SCRAM
	// users and ACLs, ClickHouse TLS with admin, ingest and analyst). A
	// stack folder is either secure or open, never both.
	Secure bool
	// Tenants get a producer identity each on a secure stack.
	Tenants []string
	// ClickHouseDatabases are the databases ingest and analyst may use on a
	// secure stack (ClickHouse 18.16's allow_databases).
	ClickHouseDatabases []string

	// Cluster runs ClusterSize NATS and Kafka nodes instead of one of
	// each (cluster.go has the port layout); ClickHouse stays single.
	Cluster bool
	// NATSClusterPort is the first NATS node's route port (cluster only).
	NATSClusterPort int

	// ReadyTimeout bounds the wait for each server to answer.
	ReadyTimeout time.Duration
	// StopTimeout bounds a graceful stop before SIGKILL.
	StopTimeout time.Duration
	// InstallTimeout bounds binary installs and Maven resolution.
	InstallTimeout time.Duration
}

// DefaultConfig returns the ports every Tributary tool expects by default.
func DefaultConfig() Config {
	return Config{
		Dir:                 ".tributary",
		NATSPort:            4222,
		NATSMonitorPort:     8222,
		JetStreamSync:       SyncDefault,
		KafkaPort:           9092,
		KafkaControllerPort: 9093,
		KafkaHeap:           "1g",
		KafkaPartitions:     3,
		ClickHouseTCPPort:   9000,
		ClickHouseHTTPPort:  8123,
		NATSClusterPort:     6222,
		ClickHouseTLSPort:   9440,
		Tenants:             []string{"acme", "globex"},
		ClickHouseDatabases: []string{"tributary"},
		ReadyTimeout:        90 * time.Second,
		StopTimeout:         30 * time.Second,
		InstallTimeout:      10 * time.Minute,
	}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("localstack: Dir is empty"))
	}
	ports := map[string]int{
		"NATSPort": c.NATSPort, "NATSMonitorPort": c.NATSMonitorPort,
		"KafkaPort": c.KafkaPort, "KafkaControllerPort": c.KafkaControllerPort,
		"ClickHouseTCPPort": c.ClickHouseTCPPort, "ClickHouseHTTPPort": c.ClickHouseHTTPPort,
	}
	if c.Cluster {
		ports = c.clusterPorts()
	}
	if c.Cluster && c.Secure {
		// Each is tested alone; together they would need certificates and
		// users for every node, which nothing here writes yet.
		errs = append(errs, errors.New("localstack: Cluster and Secure cannot be combined yet"))
	}
	if c.Secure {
		ports["ClickHouseTLSPort"] = c.ClickHouseTLSPort
		if len(c.Tenants) == 0 {
			errs = append(errs, errors.New("localstack: a secure stack needs at least one tenant"))
		}
		for _, t := range c.Tenants {
			if err := validTenant(t); err != nil {
				errs = append(errs, fmt.Errorf("localstack: Tenants: %w", err))
			}
		}
		if len(c.ClickHouseDatabases) == 0 {
			errs = append(errs, errors.New("localstack: a secure stack needs at least one ClickHouse database"))
		}
	}
	seen := map[int]string{}
	for _, name := range sortedKeys(ports) {
		p := ports[name]
		if p <= 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("localstack: %s %d is not a port", name, p))
			continue
		}
		if other, ok := seen[p]; ok {
			errs = append(errs, fmt.Errorf("localstack: %s and %s both use port %d", other, name, p))
		}
		seen[p] = name
	}
	if c.JetStreamSync != SyncDefault && c.JetStreamSync != SyncAlways {
		errs = append(errs, fmt.Errorf("localstack: JetStreamSync %q is not %q or %q", c.JetStreamSync, SyncDefault, SyncAlways))
	}
	if c.KafkaHeap == "" {
		errs = append(errs, errors.New("localstack: KafkaHeap is empty"))
	}
	if c.KafkaPartitions < 1 {
		errs = append(errs, fmt.Errorf("localstack: KafkaPartitions %d must be at least 1", c.KafkaPartitions))
	}
	for name, d := range map[string]time.Duration{"ReadyTimeout": c.ReadyTimeout, "StopTimeout": c.StopTimeout, "InstallTimeout": c.InstallTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("localstack: %s %s must be positive", name, d))
		}
	}
	return errors.Join(errs...)
}

// WithPortOffset shifts every port by n, so a second stack can run beside
// the default one (tests of the stack itself, two checkouts).
func (c Config) WithPortOffset(n int) Config {
	c.NATSPort += n
	c.NATSMonitorPort += n
	c.KafkaPort += n
	c.KafkaControllerPort += n
	c.ClickHouseTCPPort += n
	c.ClickHouseHTTPPort += n
	c.NATSClusterPort += n
	c.ClickHouseTLSPort += n
	return c
}

// EnvFile is where Up writes the connection settings.
func (c Config) EnvFile() string { return filepath.Join(c.Dir, "env") }

func (c Config) toolsPath(parts ...string) string {
	dir := c.ToolsDir
	if dir == "" {
		dir = c.Dir
	}
	return filepath.Join(append([]string{dir}, parts...)...)
}

func (c Config) path(parts ...string) string {
	return filepath.Join(append([]string{c.Dir}, parts...)...)
}
