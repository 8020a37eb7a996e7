package localstack

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segmentio/kafka-go"
)

// ClusterSize is how many NATS and how many Kafka nodes a clustered stack
// runs: the smallest quorum that survives losing one node.
const ClusterSize = 3

// clusterPortStride separates one node's ports from the next's: node k
// (1-based) listens on each base port + (k-1)×stride.
const clusterPortStride = 10

// nodePort is node k's port for base.
func nodePort(base, k int) int { return base + (k-1)*clusterPortStride }

// clusterPorts names every port a clustered stack binds, for Validate.
func (c Config) clusterPorts() map[string]int {
	ports := map[string]int{"ClickHouseTCPPort": c.ClickHouseTCPPort, "ClickHouseHTTPPort": c.ClickHouseHTTPPort}
	for k := 1; k <= ClusterSize; k++ {
		ports[fmt.Sprintf("NATSPort(node %d)", k)] = nodePort(c.NATSPort, k)
		ports[fmt.Sprintf("NATSMonitorPort(node %d)", k)] = nodePort(c.NATSMonitorPort, k)
		ports[fmt.Sprintf("NATSClusterPort(node %d)", k)] = nodePort(c.NATSClusterPort, k)
		ports[fmt.Sprintf("KafkaPort(node %d)", k)] = nodePort(c.KafkaPort, k)
		ports[fmt.Sprintf("KafkaControllerPort(node %d)", k)] = nodePort(c.KafkaControllerPort, k)
	}
	return ports
}

// clusterServers is the clustered stack: every NATS node, every Kafka node
// (all launched before any is awaited), then the single ClickHouse.
func clusterServers(cfg Config) []server {
	var out []server
	for k := 1; k <= ClusterSize; k++ {
		out = append(out, natsNode{cfg: cfg, id: k})
	}
	for k := 1; k <= ClusterSize; k++ {
		out = append(out, kafkaNode{cfg: cfg, id: k})
	}
	return append(out, clickhouseServer{cfg})
}

// everyServer is the servers of both layouts, so Down stops a cluster
// even when called without Cluster (and a single stack with it).
func (s *Stack) everyServer() []server {
	out := []server{natsServer{s.cfg}, kafkaServer{s.cfg}}
	for _, srv := range clusterServers(s.cfg) {
		if srv.name() != ClickHouse {
			out = append(out, srv)
		}
	}
	return append(out, clickhouseServer{s.cfg})
}

// clusterEndpoints lists every node, so a client bootstraps from any.
func (s *Stack) clusterEndpoints(ep *Endpoints) {
	var nats, brokers []string
	for k := 1; k <= ClusterSize; k++ {
		nats = append(nats, fmt.Sprintf("nats://127.0.0.1:%d", nodePort(s.cfg.NATSPort, k)))
		brokers = append(brokers, fmt.Sprintf("127.0.0.1:%d", nodePort(s.cfg.KafkaPort, k)))
	}
	ep.NATSURL = strings.Join(nats, ",")
	ep.KafkaBrokers = strings.Join(brokers, ",")
	ep.Replicas = ClusterSize
}

// NodeName is the server name of a cluster's node k of kind (NATS or
// Kafka), as Start, Stop and Kill take it: "nats-2", "kafka-3".
func NodeName(kind string, k int) string { return fmt.Sprintf("%s-%d", kind, k) }

// natsNode is one JetStream server of the cluster: server_name n<k>,
// routes to every node, its own store.
type natsNode struct {
	cfg Config
	id  int
}

func (n natsNode) name() string       { return NodeName(NATS, n.id) }
func (n natsNode) client() int        { return nodePort(n.cfg.NATSPort, n.id) }
func (n natsNode) monitor() int       { return nodePort(n.cfg.NATSMonitorPort, n.id) }
func (n natsNode) route() int         { return nodePort(n.cfg.NATSClusterPort, n.id) }
func (n natsNode) ports() []int       { return []int{n.client(), n.monitor(), n.route()} }
func (n natsNode) dir() string        { return n.cfg.path(n.name()) }
func (n natsNode) conf() string       { return filepath.Join(n.dir(), "nats.conf") }
func (n natsNode) single() natsServer { return natsServer{n.cfg} }

func (n natsNode) proc() process {
	return process{name: n.name(), pidFile: filepath.Join(n.dir(), "pid"), logFile: filepath.Join(n.dir(), "nats.log"), marker: n.conf()}
}

func (n natsNode) prepare(ctx context.Context) error {
	store, err := filepath.Abs(filepath.Join(n.dir(), "jetstream"))
	if err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	if err := os.MkdirAll(store, 0o755); err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	if err := n.single().install(ctx); err != nil {
		return err
	}
	routes := make([]string, 0, ClusterSize)
	for k := 1; k <= ClusterSize; k++ {
		routes = append(routes, fmt.Sprintf("nats-route://127.0.0.1:%d", nodePort(n.cfg.NATSClusterPort, k)))
	}
	sync := ""
	if n.cfg.JetStreamSync == SyncAlways {
		sync = "  sync_interval: always\n"
	}
	conf := fmt.Sprintf(`# Written by tributary-stack; edits are overwritten.
server_name: n%d
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
max_payload: 8MB
cluster {
  name: tributary
  listen: 127.0.0.1:%d
  routes: [%s]
}
jetstream {
  store_dir: %q
%s}
`, n.id, n.client(), n.monitor(), n.route(), strings.Join(routes, ", "), store, sync)
	if err := writeIfChanged(n.conf(), conf); err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	return nil
}

func (n natsNode) command() *exec.Cmd {
	return exec.Command(n.single().binary(), "--config", n.conf())
}

// ready needs a JetStream meta leader, not only a listening port: before
// the quorum has elected one, no replicated stream can be created.
func (n natsNode) ready(ctx context.Context) error {
	if _, err := httpGet(ctx, fmt.Sprintf("http://127.0.0.1:%d/healthz", n.monitor())); err != nil {
		return err
	}
	body, err := httpGet(ctx, fmt.Sprintf("http://127.0.0.1:%d/jsz", n.monitor()))
	if err != nil {
		return err
	}
	var jsz struct {
		Meta *struct {
			Leader string `json:"leader"`
		} `json:"meta_cluster"`
	}
	if err := json.Unmarshal(body, &jsz); err != nil {
		return fmt.Errorf("decode %s jsz: %w", n.name(), err)
	}
	if jsz.Meta == nil || jsz.Meta.Leader == "" {
		return fmt.Errorf("%s: no JetStream meta leader yet", n.name())
	}
	return nil
}

func (n natsNode) version(ctx context.Context) (string, error) {
	body, err := httpGet(ctx, fmt.Sprintf("http://127.0.0.1:%d/varz", n.monitor()))
	if err != nil {
		return "", err
	}
	var v struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(body, &v); err != nil {
		return "", fmt.Errorf("decode %s varz: %w", n.name(), err)
	}
	return v.Version, nil
}

// kafkaNode is one Kafka 4 process in combined mode (broker and KRaft
// controller): three JVMs hold a 3-voter quorum and three brokers, where
// separate controllers would need six (or a single, unreplicated one).
type kafkaNode struct {
	cfg Config
	id  int
}

func (n kafkaNode) name() string          { return NodeName(Kafka, n.id) }
func (n kafkaNode) brokerPort() int       { return nodePort(n.cfg.KafkaPort, n.id) }
func (n kafkaNode) controllerPort() int   { return nodePort(n.cfg.KafkaControllerPort, n.id) }
func (n kafkaNode) ports() []int          { return []int{n.brokerPort(), n.controllerPort()} }
func (n kafkaNode) dir() string           { return n.cfg.path(n.name()) }
func (n kafkaNode) props() string         { return filepath.Join(n.dir(), "server.properties") }
func (n kafkaNode) dataDir() string       { return filepath.Join(n.dir(), "data") }
func (n kafkaNode) log4j() string         { return filepath.Join(n.dir(), "log4j2.properties") }
func (n kafkaNode) clusterIDFile() string { return n.cfg.path("kafka-cluster.id") }
func (n kafkaNode) single() kafkaServer   { return kafkaServer{n.cfg} }

func (n kafkaNode) proc() process {
	return process{name: n.name(), pidFile: filepath.Join(n.dir(), "pid"), logFile: filepath.Join(n.dir(), "kafka.log"), marker: n.props()}
}

func (n kafkaNode) prepare(ctx context.Context) error {
	if _, err := exec.LookPath("java"); err != nil {
		return errors.New("prepare kafka: java not found on PATH: install a Java 17+ runtime (Debian: apt-get install -y openjdk-17-jre-headless)")
	}
	if err := n.single().resolveClasspath(ctx); err != nil {
		return err
	}
	data, err := filepath.Abs(n.dataDir())
	if err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	voters := make([]string, 0, ClusterSize)
	for k := 1; k <= ClusterSize; k++ {
		voters = append(voters, fmt.Sprintf("%d@127.0.0.1:%d", k, nodePort(n.cfg.KafkaControllerPort, k)))
	}
	// Every topic, the internal ones included, has three replicas and
	// needs two in sync to take an acks=all write: one node may be lost.
	// Fewer I/O and network threads than the defaults suit a 2-core box.
	props := fmt.Sprintf(`# Written by tributary-stack; edits are overwritten.
process.roles=broker,controller
node.id=%[1]d
controller.quorum.voters=%[2]s
listeners=PLAINTEXT://127.0.0.1:%[3]d,CONTROLLER://127.0.0.1:%[4]d
advertised.listeners=PLAINTEXT://127.0.0.1:%[3]d
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=%[5]s
num.partitions=%[6]d
default.replication.factor=%[7]d
min.insync.replicas=%[8]d
offsets.topic.replication.factor=%[7]d
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=%[7]d
transaction.state.log.min.isr=%[8]d
share.coordinator.state.topic.replication.factor=%[7]d
share.coordinator.state.topic.min.isr=%[8]d
unclean.leader.election.enable=false
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
num.network.threads=2
num.io.threads=4
`, n.id, strings.Join(voters, ","), n.brokerPort(), n.controllerPort(), data, n.cfg.KafkaPartitions, ClusterSize, ClusterSize-1)
	if err := writeIfChanged(n.props(), props); err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	if err := writeIfChanged(n.log4j(), kafkaLog4j); err != nil {
		return fmt.Errorf("prepare %s: %w", n.name(), err)
	}
	// The cluster id is drawn here, under the tools lock, so every node
	// formats with the same one.
	_, err = n.clusterID()
	return err
}

// initialize formats the node's storage, outside the tools lock so the
// three nodes' formatting JVMs run at once.
func (n kafkaNode) initialize(ctx context.Context) error { return n.format(ctx) }

// format writes the node's KRaft metadata once, with the cluster id every
// node shares (the first node to be formatted draws it).
func (n kafkaNode) format(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(n.dataDir(), "meta.properties")); err == nil {
		return nil
	}
	cp, err := n.single().classpath()
	if err != nil {
		return err
	}
	id, err := n.clusterID()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "java", "-cp", cp, "kafka.tools.StorageTool", "format", "--cluster-id="+id, "-c", n.props())
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("format %s storage: %w\n%s", n.name(), err, out)
	}
	return nil
}

func (n kafkaNode) clusterID() (string, error) {
	if raw, err := os.ReadFile(n.clusterIDFile()); err == nil {
		return strings.TrimSpace(string(raw)), nil
	}
	id, err := newClusterID()
	if err != nil {
		return "", err
	}
	if err := os.WriteFile(n.clusterIDFile(), []byte(id+"\n"), 0o644); err != nil {
		return "", fmt.Errorf("kafka cluster id: %w", err)
	}
	return id, nil
}

func (n kafkaNode) command() *exec.Cmd {
	cp, _ := n.single().classpath() // prepare has checked it
	return kafkaJVM(n.cfg.KafkaHeap, n.log4j(), cp, n.props())
}

// ready asks this node for metadata: it answers with a controller only
// once the quorum has a leader and the node has registered.
func (n kafkaNode) ready(ctx context.Context) error {
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(fmt.Sprintf("127.0.0.1:%d", n.brokerPort())), Transport: transport}
	resp, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		return err
	}
	if len(resp.Brokers) == 0 || resp.Controller.ID < 0 {
		return fmt.Errorf("%s: metadata lists no broker or controller yet", n.name())
	}
	return nil
}

func (n kafkaNode) version(ctx context.Context) (string, error) { return n.single().version(ctx) }

// sessionRSS sums the resident memory of every process in the session led
// by pid (servers are started with setsid), in KiB.
func sessionRSS(pid int) int64 {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total int64
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p))
		if err != nil {
			continue
		}
		// After the parenthesised name: state ppid pgrp session …
		i := bytes.LastIndexByte(stat, ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(stat[i+1:]))
		if len(fields) < 4 || fields[3] != strconv.Itoa(pid) {
			continue
		}
		total += vmRSS(p)
	}
	return total
}

// vmRSS is a process's resident set in KiB, 0 if unknown.
func vmRSS(pid int) int64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb
		}
	}
	return 0
}
