package clickhouse

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"
)

// Config says how to reach one ClickHouse database. The zero value plus
// Addr is usable: Defaults fills the rest.
type Config struct {
	// Addr is host:port of the native protocol (9000); several servers may be
	// given comma-separated and are tried in order.
	Addr string
	// Database is created by Open when missing, unless ReadOnly. Default
	// "tributary".
	Database string
	// ReadOnly makes Open refuse a missing database instead of creating
	// it: tools that only read (tributary-query) never create anything,
	// so a typo in the name is an error, not a new empty database.
	ReadOnly bool
	// Username defaults to "default"; Password may be empty.
	Username string
	Password string
	// TLS, when set, makes the connection TLS (the server's secure native
	// port, 9440 by default).
	TLS *tls.Config

	DialTimeout     time.Duration // default 5s
	ReadTimeout     time.Duration // per-query socket read; default 30s
	MaxOpenConns    int           // default 10
	MaxIdleConns    int           // default 5, never above MaxOpenConns
	ConnMaxLifetime time.Duration // default 1h
	// Cluster, when set, names the ClickHouse cluster (a remote_servers
	// entry) the schema lives on: migrations take their cluster form
	// (Replicated _local tables under Distributed ones of the usual names;
	// see RenderCluster) and every connection inserts with
	// insert_distributed_sync=1, so an insert returns once each shard's
	// rows are written on a replica of that shard rather than queued on
	// the node that took it. Empty: one server.
	Cluster string
	// Compress turns on LZ4 for blocks on the wire; both 18.16 and 25.x
	// speak it. Off by default because loopback deployments gain nothing.
	Compress bool
}

// Defaults returns c with every unset field filled in. It does not validate.
func (c Config) Defaults() Config {
	if c.Database == "" {
		c.Database = "tributary"
	}
	if c.Username == "" {
		c.Username = "default"
	}
	if c.DialTimeout == 0 {
		c.DialTimeout = 5 * time.Second
	}
	if c.ReadTimeout == 0 {
		c.ReadTimeout = 30 * time.Second
	}
	if c.MaxOpenConns == 0 {
		c.MaxOpenConns = 10
	}
	if c.MaxIdleConns == 0 {
		c.MaxIdleConns = min(5, c.MaxOpenConns)
	}
	if c.ConnMaxLifetime == 0 {
		c.ConnMaxLifetime = time.Hour
	}
	return c
}

// identRe is what we accept as a database name: it is spliced into DDL
// (CREATE DATABASE cannot be bound), so anything outside it is refused rather
// than quoted.
var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Validate reports every problem at once, each naming its field.
func (c Config) Validate() error {
	var errs []error
	if strings.TrimSpace(c.Addr) == "" {
		errs = append(errs, errors.New("Addr: required (host:port of the native protocol)"))
	}
	for _, a := range c.addrs() {
		if _, port, err := net.SplitHostPort(a); err != nil || port == "" {
			errs = append(errs, fmt.Errorf("Addr: %q is not host:port", a))
		}
	}
	if !identRe.MatchString(c.Database) {
		errs = append(errs, fmt.Errorf("Database: %q must match %s", c.Database, identRe))
	}
	if c.Cluster != "" && !identRe.MatchString(c.Cluster) {
		errs = append(errs, fmt.Errorf("Cluster: %q must match %s (a remote_servers name; empty for one server)", c.Cluster, identRe))
	}
	if c.Username == "" {
		errs = append(errs, errors.New("Username: required"))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"DialTimeout", c.DialTimeout}, {"ReadTimeout", c.ReadTimeout}, {"ConnMaxLifetime", c.ConnMaxLifetime}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", d.name, d.v))
		}
	}
	if c.MaxOpenConns <= 0 {
		errs = append(errs, fmt.Errorf("MaxOpenConns: must be positive, got %d", c.MaxOpenConns))
	}
	if c.MaxIdleConns < 0 || c.MaxIdleConns > c.MaxOpenConns {
		errs = append(errs, fmt.Errorf("MaxIdleConns: must be in [0, MaxOpenConns=%d], got %d", c.MaxOpenConns, c.MaxIdleConns))
	}
	return errors.Join(errs...)
}

// Migrate is the MigrateConfig that matches c: the cluster form on a
// cluster, in c's database.
func (c Config) Migrate(params map[string]string) MigrateConfig {
	return MigrateConfig{Cluster: c.Cluster, Database: c.Database, Params: params}
}

// settings are sent with every query of a connection.
func (c Config) settings() map[string]any {
	if c.Cluster == "" {
		return nil
	}
	// A Distributed insert is otherwise queued on the node that took it and
	// forwarded later: acknowledging it would not mean the rows are on
	// their shard, and a crash of that node would hold them back.
	return map[string]any{"insert_distributed_sync": 1}
}

func (c Config) addrs() []string {
	var out []string
	for _, a := range strings.Split(c.Addr, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}
