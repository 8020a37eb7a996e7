package localstack

import (
	"strings"
	"testing"
)

func TestClickHouseClusterConfigValidate(t *testing.T) {
	def := DefaultClickHouseClusterConfig()
	tests := []struct {
		name    string
		edit    func(*ClickHouseClusterConfig)
		wantErr []string
	}{
		{"default", func(*ClickHouseClusterConfig) {}, nil},
		{"offset", func(c *ClickHouseClusterConfig) { *c = c.WithPortOffset(50000) }, nil},
		{"every field", func(c *ClickHouseClusterConfig) {
			c.Dir, c.Name, c.Shards, c.ZooKeeperHeap, c.StopTimeout = "", "a-b", 0, "", 0
		}, []string{"Dir is empty", `Name "a-b"`, "Shards 0", "ZooKeeperHeap is empty", "StopTimeout 0s"}},
		{"overlapping ranges", func(c *ClickHouseClusterConfig) { c.HTTPPort = c.TCPPort + 3 },
			[]string{"HTTPPort 9104..9107 overlaps TCPPort 9101..9104"}},
		{"past the last port", func(c *ClickHouseClusterConfig) { c.InterserverPort = 65534 }, []string{"InterserverPort 65534..65537 is not a port range"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := def
			tt.edit(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("err = %v, want %q", err, w)
				}
			}
		})
	}
}

// Every node's config names the whole cluster, and its own ports and macros.
func TestClickHouseClusterNodeConfig(t *testing.T) {
	c, err := NewClickHouseCluster(DefaultClickHouseClusterConfig().WithPortOffset(50000), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.nodes) != 4 {
		t.Fatalf("%d nodes", len(c.nodes))
	}
	seen := map[int]string{}
	for _, n := range c.nodes {
		conf := n.config()
		for _, want := range []string{
			"<internal_replication>true</internal_replication>",
			"<port>59101</port>", "<port>59102</port>", "<port>59103</port>", "<port>59104</port>",
			"<node index=\"1\"><host>127.0.0.1</host><port>52181</port></node>",
			"<session_timeout_ms>10000</session_timeout_ms>",
			"<distributed_ddl>", "<tributary>",
			"<shard>" + string(rune('0'+n.shard)) + "</shard>",
			"<replica>s" + string(rune('0'+n.shard)) + "r" + string(rune('0'+n.replica)) + "</replica>",
		} {
			if !strings.Contains(conf, want) {
				t.Errorf("%s: config lacks %q", n.name(), want)
			}
		}
		for _, p := range n.ports() {
			if other, dup := seen[p]; dup {
				t.Errorf("%s and %s share port %d", other, n.name(), p)
			}
			seen[p] = n.name()
		}
	}
	if got := ReplicaName(2, 1); got != "ch-s2r1" || c.nodes[2].name() != got {
		t.Errorf("node 2 is %s, ReplicaName(2, 1) = %s", c.nodes[2].name(), got)
	}
	env := ClusterEndpoints{Cluster: "tributary", Addrs: []string{"127.0.0.1:1", "127.0.0.1:2"}, HTTP: "http://127.0.0.1:3",
		ZooKeeper: "127.0.0.1:4", Versions: map[string]string{"clickhouse": "18.16.1"}}.Env()
	for _, want := range []string{"TRIBUTARY_CLICKHOUSE_ADDR=127.0.0.1:1,127.0.0.1:2\n", "TRIBUTARY_CLICKHOUSE_CLUSTER=tributary\n",
		"TRIBUTARY_ZOOKEEPER=127.0.0.1:4\n", "TRIBUTARY_CLICKHOUSE_VERSION=18.16.1\n"} {
		if !strings.Contains(env, want) {
			t.Errorf("env lacks %q:\n%s", want, env)
		}
	}
	if _, err := c.member("ch-s9r9"); err == nil || !strings.Contains(err.Error(), "zookeeper, ch-s1r1") {
		t.Errorf("unknown member: %v", err)
	}
}
