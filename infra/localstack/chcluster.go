package localstack

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"time"
)

// clusterNameRe is what a cluster name may be: it is spliced into XML and
// DDL.
var clusterNameRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// ZooKeeper names the cluster's coordinator in ClickHouseCluster's Start,
// Stop and Kill; the ClickHouse nodes are named by ReplicaName.
const ZooKeeper = "zookeeper"

// ClickHouseClusterConfig places a local ClickHouse cluster: one ZooKeeper
// and Shards × Replicas clickhouse-server processes on loopback, each with
// its own ports and folder under Dir.
type ClickHouseClusterConfig struct {
	// Dir holds every node's config, data and log, the ZooKeeper's, and
	// the env file.
	Dir string
	// ToolsDir holds ZooKeeper's resolved classpath; empty means Dir.
	ToolsDir string
	// Name is the cluster's name in remote_servers, what ON CLUSTER and
	// Distributed tables say. Default "tributary".
	Name string
	// Shards and Replicas shape the cluster; default 2 × 2.
	Shards, Replicas int

	ZooKeeperPort int
	// ZooKeeperHeap is the JVM heap, e.g. "256m".
	ZooKeeperHeap string
	// TCPPort, HTTPPort and InterserverPort are the first node's; node i
	// (shard-major: s1r1, s1r2, s2r1, …) adds i to each.
	TCPPort, HTTPPort, InterserverPort int
	// ZooKeeperSessionTimeout is ClickHouse's session: how long a killed
	// replica's claim (its is_active node) outlives it and keeps a
	// restarted one read-only. Default 10s.
	ZooKeeperSessionTimeout time.Duration

	ReadyTimeout, StopTimeout, InstallTimeout time.Duration
}

// DefaultClickHouseClusterConfig is 2 shards × 2 replicas named
// "tributary", beside the default single-node stack's ports.
func DefaultClickHouseClusterConfig() ClickHouseClusterConfig {
	return ClickHouseClusterConfig{
		Dir:                     filepath.Join(".tributary", "chcluster"),
		Name:                    "tributary",
		Shards:                  2,
		Replicas:                2,
		ZooKeeperPort:           2181,
		ZooKeeperHeap:           "256m",
		TCPPort:                 9101,
		HTTPPort:                8201,
		InterserverPort:         9201,
		ZooKeeperSessionTimeout: 10 * time.Second,
		ReadyTimeout:            90 * time.Second,
		StopTimeout:             30 * time.Second,
		InstallTimeout:          10 * time.Minute,
	}
}

// WithPortOffset shifts every port by n.
func (c ClickHouseClusterConfig) WithPortOffset(n int) ClickHouseClusterConfig {
	c.ZooKeeperPort += n
	c.TCPPort += n
	c.HTTPPort += n
	c.InterserverPort += n
	return c
}

// Validate reports every problem at once, naming the field.
func (c ClickHouseClusterConfig) Validate() error {
	var errs []error
	if c.Dir == "" {
		errs = append(errs, errors.New("chcluster: Dir is empty"))
	}
	if !clusterNameRe.MatchString(c.Name) {
		errs = append(errs, fmt.Errorf("chcluster: Name %q must match %s", c.Name, clusterNameRe))
	}
	if c.Shards < 1 || c.Replicas < 1 || c.Shards*c.Replicas > 16 {
		errs = append(errs, fmt.Errorf("chcluster: Shards %d × Replicas %d must be at least 1 × 1 and at most 16 nodes", c.Shards, c.Replicas))
	}
	n := max(1, c.Shards*c.Replicas)
	ranges := map[string][2]int{
		"ZooKeeperPort": {c.ZooKeeperPort, c.ZooKeeperPort}, "TCPPort": {c.TCPPort, c.TCPPort + n - 1},
		"HTTPPort": {c.HTTPPort, c.HTTPPort + n - 1}, "InterserverPort": {c.InterserverPort, c.InterserverPort + n - 1},
	}
	names := sortedKeys(ranges)
	for i, a := range names {
		r := ranges[a]
		if r[0] <= 0 || r[1] > 65535 {
			errs = append(errs, fmt.Errorf("chcluster: %s %d..%d is not a port range", a, r[0], r[1]))
		}
		for _, b := range names[i+1:] {
			if o := ranges[b]; r[0] <= o[1] && o[0] <= r[1] {
				errs = append(errs, fmt.Errorf("chcluster: %s %d..%d overlaps %s %d..%d", a, r[0], r[1], b, o[0], o[1]))
			}
		}
	}
	if c.ZooKeeperHeap == "" {
		errs = append(errs, errors.New("chcluster: ZooKeeperHeap is empty"))
	}
	for name, d := range map[string]time.Duration{"ZooKeeperSessionTimeout": c.ZooKeeperSessionTimeout,
		"ReadyTimeout": c.ReadyTimeout, "StopTimeout": c.StopTimeout, "InstallTimeout": c.InstallTimeout} {
		if d <= 0 {
			errs = append(errs, fmt.Errorf("chcluster: %s %s must be positive", name, d))
		}
	}
	return errors.Join(errs...)
}

func (c ClickHouseClusterConfig) tools() string {
	if c.ToolsDir != "" {
		return c.ToolsDir
	}
	return c.Dir
}

// EnvFile is where Up writes the cluster's connection settings.
func (c ClickHouseClusterConfig) EnvFile() string { return filepath.Join(c.Dir, "env") }

// ReplicaName names the ClickHouse node of shard s and replica r, both from 1.
func ReplicaName(s, r int) string { return fmt.Sprintf("ch-s%dr%d", s, r) }

// ClickHouseCluster runs a local ClickHouse cluster. Up and Down hold a
// file lock in Dir, so several processes may share one.
type ClickHouseCluster struct {
	cfg   ClickHouseClusterConfig
	log   *slog.Logger
	zk    zookeeper
	nodes []chNode
}

// NewClickHouseCluster checks cfg; it starts nothing.
func NewClickHouseCluster(cfg ClickHouseClusterConfig, log *slog.Logger) (*ClickHouseCluster, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	var err error
	// Absolute: the config path is how a later process recognises a node.
	if cfg.Dir, err = filepath.Abs(cfg.Dir); err != nil {
		return nil, fmt.Errorf("chcluster: %w", err)
	}
	if cfg.ToolsDir != "" {
		if cfg.ToolsDir, err = filepath.Abs(cfg.ToolsDir); err != nil {
			return nil, fmt.Errorf("chcluster: %w", err)
		}
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	c := &ClickHouseCluster{cfg: cfg, log: log, zk: zookeeper{cfg}}
	for s := 1; s <= cfg.Shards; s++ {
		for r := 1; r <= cfg.Replicas; r++ {
			c.nodes = append(c.nodes, chNode{cfg: cfg, shard: s, replica: r, index: len(c.nodes)})
		}
	}
	return c, nil
}

// Config is the checked configuration, with absolute folders.
func (c *ClickHouseCluster) Config() ClickHouseClusterConfig { return c.cfg }

// NodeInfo is one running process of the cluster.
type NodeInfo struct {
	Name           string
	Shard, Replica int // 0 for ZooKeeper
	Addr           string
	PID            int
	RSSBytes       int64
	Log            string
}

// ClusterEndpoints are what clients need, and what is running.
type ClusterEndpoints struct {
	Cluster   string
	Database  string
	Addrs     []string // native host:port of every node, shard-major
	HTTP      string   // the first node's HTTP URL
	ZooKeeper string
	Versions  map[string]string
	Nodes     []NodeInfo
}

// Env renders the endpoints as the env file's KEY=value lines. The
// addresses list every node; a client tries them in order.
func (e ClusterEndpoints) Env() string {
	var b strings.Builder
	fmt.Fprintf(&b, "TRIBUTARY_CLICKHOUSE_ADDR=%s\n", strings.Join(e.Addrs, ","))
	fmt.Fprintf(&b, "TRIBUTARY_CLICKHOUSE_HTTP=%s\n", e.HTTP)
	fmt.Fprintf(&b, "TRIBUTARY_CLICKHOUSE_CLUSTER=%s\n", e.Cluster)
	fmt.Fprintf(&b, "TRIBUTARY_ZOOKEEPER=%s\n", e.ZooKeeper)
	for _, name := range sortedKeys(e.Versions) {
		fmt.Fprintf(&b, "TRIBUTARY_%s_VERSION=%s\n", strings.ToUpper(name), e.Versions[name])
	}
	return b.String()
}

// Up starts ZooKeeper, then every node (started together, awaited in
// turn), checks that a node sees the whole cluster and ZooKeeper, and
// writes the env file. It is idempotent: running members are kept.
func (c *ClickHouseCluster) Up(ctx context.Context) (ClusterEndpoints, error) {
	unlock, err := lockFile(filepath.Join(c.cfg.Dir, "lock"))
	if err != nil {
		return ClusterEndpoints{}, err
	}
	defer unlock()
	if err := c.ensure(ctx, c.zk); err != nil {
		return ClusterEndpoints{}, err
	}
	if _, _, ok := binaryOnPath(); !ok {
		if err := installClickHouse(ctx); err != nil {
			return ClusterEndpoints{}, err
		}
	}
	errs := make([]error, len(c.nodes))
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = c.ensure(ctx, n) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return ClusterEndpoints{}, err
	}
	if err := waitReady(ctx, c.cfg.ReadyTimeout, c.nodes[0].clusterReady); err != nil {
		return ClusterEndpoints{}, fmt.Errorf("chcluster: %s does not see the cluster: %w", c.nodes[0].name(), err)
	}
	ep, err := c.Endpoints(ctx)
	if err != nil {
		return ep, err
	}
	tmp := c.cfg.EnvFile() + ".tmp"
	if err := os.WriteFile(tmp, []byte(ep.Env()), 0o644); err != nil {
		return ep, fmt.Errorf("chcluster: write env file: %w", err)
	}
	return ep, os.Rename(tmp, c.cfg.EnvFile())
}

// Endpoints reports the addresses, versions and running processes.
func (c *ClickHouseCluster) Endpoints(ctx context.Context) (ClusterEndpoints, error) {
	ep := ClusterEndpoints{Cluster: c.cfg.Name, HTTP: c.nodes[0].httpURL(), ZooKeeper: c.zk.addr(), Versions: map[string]string{}}
	for _, n := range c.nodes {
		ep.Addrs = append(ep.Addrs, n.addr())
	}
	for _, m := range c.members() {
		info := NodeInfo{Name: m.name(), Addr: fmt.Sprintf("127.0.0.1:%d", m.ports()[0]), Log: m.proc().logFile}
		if n, ok := m.(chNode); ok {
			info.Shard, info.Replica = n.shard, n.replica
		}
		if pid, ok := m.proc().pid(); ok {
			info.PID, info.RSSBytes = pid, sessionRSS(pid)<<10
		}
		ep.Nodes = append(ep.Nodes, info)
	}
	v, err := c.zk.version(ctx)
	if err != nil {
		return ep, fmt.Errorf("zookeeper version: %w", err)
	}
	ep.Versions[ZooKeeper] = v
	if v, err = c.nodes[0].version(ctx); err != nil {
		return ep, fmt.Errorf("clickhouse version: %w", err)
	}
	ep.Versions[ClickHouse] = v
	return ep, nil
}

// Down stops every node, then ZooKeeper, and leaves no process behind.
// Data is kept.
func (c *ClickHouseCluster) Down(ctx context.Context) error {
	unlock, err := lockFile(filepath.Join(c.cfg.Dir, "lock"))
	if err != nil {
		return err
	}
	defer unlock()
	errs := make([]error, len(c.nodes)+1)
	var wg sync.WaitGroup
	for i, n := range c.nodes {
		wg.Go(func() { errs[i] = n.proc().stop(c.cfg.StopTimeout) })
	}
	wg.Wait()
	c.log.InfoContext(ctx, "stopped", "nodes", len(c.nodes))
	errs[len(c.nodes)] = c.zk.proc().stop(c.cfg.StopTimeout)
	return errors.Join(errs...)
}

// Status reports which members run.
func (c *ClickHouseCluster) Status() []Status {
	var out []Status
	for _, m := range c.members() {
		pid, ok := m.proc().pid()
		st := Status{Name: m.name(), Running: ok, PID: pid, Log: m.proc().logFile}
		if ok {
			st.RSSKiB = sessionRSS(pid)
		}
		out = append(out, st)
	}
	return out
}

// Start starts one member (ZooKeeper or a node) if it is not running and
// waits until it answers.
func (c *ClickHouseCluster) Start(ctx context.Context, name string) error {
	m, err := c.member(name)
	if err != nil {
		return err
	}
	return c.ensure(ctx, m)
}

// Stop stops one member gracefully.
func (c *ClickHouseCluster) Stop(name string) error {
	m, err := c.member(name)
	if err != nil {
		return err
	}
	return m.proc().stop(c.cfg.StopTimeout)
}

// Kill ends one member with SIGKILL, as a crash would.
func (c *ClickHouseCluster) Kill(name string) error {
	m, err := c.member(name)
	if err != nil {
		return err
	}
	return m.proc().kill()
}

// member is a process of the cluster; zookeeper and chNode are members.
type member interface {
	name() string
	ports() []int
	prepare(ctx context.Context) error
	command() *exec.Cmd
	ready(ctx context.Context) error
	proc() process
}

func (c *ClickHouseCluster) members() []member {
	out := []member{c.zk}
	for _, n := range c.nodes {
		out = append(out, n)
	}
	return out
}

func (c *ClickHouseCluster) member(name string) (member, error) {
	var names []string
	for _, m := range c.members() {
		if m.name() == name {
			return m, nil
		}
		names = append(names, m.name())
	}
	return nil, fmt.Errorf("chcluster: unknown member %q (want one of %s)", name, strings.Join(names, ", "))
}

// ensure makes m run and answer; the error names it and its log.
func (c *ClickHouseCluster) ensure(ctx context.Context, m member) error {
	p := m.proc()
	fail := func(err error) error {
		return fmt.Errorf("%s: %w\nlog: %s\n%s", m.name(), err, p.logFile, tail(p.logFile, 15))
	}
	unlock, err := lockFile(filepath.Join(c.cfg.tools(), "tools.lock"))
	if err != nil {
		return fail(err)
	}
	err = m.prepare(ctx)
	unlock()
	if err != nil {
		return fail(err)
	}
	if _, running := p.pid(); !running {
		for _, port := range m.ports() {
			if !portFreeWithin(port, 5*time.Second) {
				return fail(fmt.Errorf("port %d is taken by a process this cluster did not start; stop it or change the port", port))
			}
		}
		began := time.Now()
		if err := p.start(m.command()); err != nil {
			return fail(err)
		}
		c.log.InfoContext(ctx, "started", "member", m.name(), "log", p.logFile)
		defer func() {
			c.log.InfoContext(ctx, "ready", "member", m.name(), "after", time.Since(began).Round(time.Millisecond))
		}()
	}
	// Polls like waitReady, but a process that exited fails at once.
	rctx, cancel := context.WithTimeout(ctx, c.cfg.ReadyTimeout)
	defer cancel()
	for {
		if why, gone := p.exited(); gone {
			return fail(fmt.Errorf("process exited: %s", why))
		}
		pctx, pcancel := context.WithTimeout(rctx, 5*time.Second)
		err := m.ready(pctx)
		pcancel()
		if err == nil {
			return nil
		}
		select {
		case <-rctx.Done():
			return fail(fmt.Errorf("not ready after %s: %w", c.cfg.ReadyTimeout, err))
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// chNode is one clickhouse-server of the cluster.
type chNode struct {
	cfg            ClickHouseClusterConfig
	shard, replica int
	index          int
}

func (n chNode) name() string { return ReplicaName(n.shard, n.replica) }
func (n chNode) ports() []int {
	return []int{n.cfg.TCPPort + n.index, n.cfg.HTTPPort + n.index, n.cfg.InterserverPort + n.index}
}
func (n chNode) addr() string    { return fmt.Sprintf("127.0.0.1:%d", n.cfg.TCPPort+n.index) }
func (n chNode) httpURL() string { return fmt.Sprintf("http://127.0.0.1:%d", n.cfg.HTTPPort+n.index) }
func (n chNode) dir() string     { return filepath.Join(n.cfg.Dir, n.name()) }
func (n chNode) conf() string    { return filepath.Join(n.dir(), "config.xml") }

func (n chNode) proc() process {
	return process{name: n.name(), pidFile: filepath.Join(n.dir(), "pid"), logFile: filepath.Join(n.dir(), "stdout.log"), marker: n.conf()}
}

func (n chNode) command() *exec.Cmd {
	bin, args, _ := binaryOnPath()
	return exec.Command(bin, append(args, "--config-file="+n.conf())...)
}

func (n chNode) prepare(context.Context) error {
	for _, d := range []string{"data", "tmp", "user_files", "format_schemas"} {
		if err := os.MkdirAll(filepath.Join(n.dir(), d), 0o755); err != nil {
			return fmt.Errorf("prepare %s: %w", n.name(), err)
		}
	}
	if err := writeIfChanged(n.conf(), n.config()); err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	if err := writeIfChanged(filepath.Join(n.dir(), "users.xml"), clickhouseUsers); err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	return nil
}

// config is the node's server config: the single-node stack's, plus the
// cluster (every node, internal_replication so a Distributed insert
// writes one replica and replication copies it), this node's macros, the
// ZooKeeper and the distributed DDL queue. Caches are small: four servers
// share the machine.
func (n chNode) config() string {
	var remote strings.Builder
	for s := 1; s <= n.cfg.Shards; s++ {
		remote.WriteString("      <shard>\n        <internal_replication>true</internal_replication>\n")
		for r := 1; r <= n.cfg.Replicas; r++ {
			i := (s-1)*n.cfg.Replicas + (r - 1)
			fmt.Fprintf(&remote, "        <replica><host>127.0.0.1</host><port>%d</port></replica>\n", n.cfg.TCPPort+i)
		}
		remote.WriteString("      </shard>\n")
	}
	return fmt.Sprintf(`<?xml version="1.0"?>
<!-- Written by tributary-stack (-ch-cluster); edits are overwritten. -->
<yandex>
  <logger>
    <level>information</level>
    <log>%[1]s/clickhouse-server.log</log>
    <errorlog>%[1]s/clickhouse-server.err.log</errorlog>
    <size>100M</size>
    <count>3</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <tcp_port>%[2]d</tcp_port>
  <http_port>%[3]d</http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <interserver_http_port>%[4]d</interserver_http_port>
  <max_connections>1024</max_connections>
  <keep_alive_timeout>3</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>%[1]s/data/</path>
  <tmp_path>%[1]s/tmp/</tmp_path>
  <user_files_path>%[1]s/user_files/</user_files_path>
  <format_schema_path>%[1]s/format_schemas/</format_schema_path>
  <users_config>%[1]s/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <remote_servers>
    <%[5]s>
%[6]s    </%[5]s>
  </remote_servers>
  <zookeeper>
    <node index="1"><host>127.0.0.1</host><port>%[7]d</port></node>
    <session_timeout_ms>%[8]d</session_timeout_ms>
  </zookeeper>
  <macros>
    <cluster>%[5]s</cluster>
    <shard>%[9]d</shard>
    <replica>%[10]s</replica>
  </macros>
  <distributed_ddl>
    <path>/clickhouse/task_queue/ddl</path>
  </distributed_ddl>
</yandex>
`, n.dir(), n.cfg.TCPPort+n.index, n.cfg.HTTPPort+n.index, n.cfg.InterserverPort+n.index,
		n.cfg.Name, remote.String(), n.cfg.ZooKeeperPort, n.cfg.ZooKeeperSessionTimeout.Milliseconds(),
		n.shard, fmt.Sprintf("s%dr%d", n.shard, n.replica))
}

func (n chNode) ready(ctx context.Context) error {
	body, err := httpGet(ctx, n.httpURL()+"/ping")
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(body)) != "Ok." {
		return fmt.Errorf("clickhouse /ping answered %q", body)
	}
	return nil
}

func (n chNode) query(ctx context.Context, sql string) (string, error) {
	body, err := httpGet(ctx, n.httpURL()+"/?query="+url.QueryEscape(sql))
	return strings.TrimSpace(string(body)), err
}

func (n chNode) version(ctx context.Context) (string, error) {
	return n.query(ctx, "SELECT version()")
}

// clusterReady: the node lists every member of the cluster and reaches
// ZooKeeper, which is what ON CLUSTER DDL and replicated tables need.
func (n chNode) clusterReady(ctx context.Context) error {
	got, err := n.query(ctx, fmt.Sprintf("SELECT count() FROM system.clusters WHERE cluster = '%s'", n.cfg.Name))
	if err != nil {
		return err
	}
	if want := fmt.Sprint(n.cfg.Shards * n.cfg.Replicas); got != want {
		return fmt.Errorf("system.clusters lists %s nodes of %s, want %s", got, n.cfg.Name, want)
	}
	if _, err := n.query(ctx, "SELECT count() FROM system.zookeeper WHERE path = '/'"); err != nil {
		return fmt.Errorf("zookeeper from clickhouse: %w", err)
	}
	return nil
}
