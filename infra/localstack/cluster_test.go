package localstack

import (
	"strings"
	"testing"
)

func TestClusterConfigValidate(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cluster = true
	if err := cfg.Validate(); err != nil {
		t.Fatalf("default cluster config: %v", err)
	}
	if err := cfg.WithPortOffset(45000).Validate(); err != nil {
		t.Fatalf("cluster config at offset 45000: %v", err)
	}
	// Node 2's client port is 4232: a route port there clashes.
	cfg.NATSClusterPort = 4232
	err := cfg.Validate()
	if err == nil || !strings.Contains(err.Error(), "both use port 4232") {
		t.Fatalf("Validate() = %v, want a clash on port 4232", err)
	}
	// The single layout does not use the route port at all.
	cfg.Cluster = false
	if err := cfg.Validate(); err != nil {
		t.Fatalf("single-node config with an unused route port: %v", err)
	}
}

func TestClusterEndpoints(t *testing.T) {
	cfg := DefaultConfig()
	cfg.Cluster = true
	cfg.Dir = t.TempDir()
	s, err := New(cfg.WithPortOffset(45000), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, st := range s.Status() {
		names = append(names, st.Name)
	}
	if got, want := strings.Join(names, " "), "nats-1 nats-2 nats-3 kafka-1 kafka-2 kafka-3 clickhouse"; got != want {
		t.Errorf("servers %q, want %q", got, want)
	}
	ep := Endpoints{}
	s.clusterEndpoints(&ep)
	env := ep.Env()
	for _, want := range []string{
		"TRIBUTARY_NATS_URL=nats://127.0.0.1:49222,nats://127.0.0.1:49232,nats://127.0.0.1:49242\n",
		"TRIBUTARY_KAFKA_BROKERS=127.0.0.1:54092,127.0.0.1:54102,127.0.0.1:54112\n",
		"TRIBUTARY_CLUSTER=1\n", "TRIBUTARY_REPLICAS=3\n",
	} {
		if !strings.Contains(env, want) {
			t.Errorf("env file lacks %q:\n%s", want, env)
		}
	}
	if err := s.Kill("nats"); err == nil || !strings.Contains(err.Error(), "nats-1") {
		t.Errorf(`Kill("nats") on a cluster = %v, want an error listing nats-1`, err)
	}
	if single := (Endpoints{Replicas: 1}).Env(); strings.Contains(single, "TRIBUTARY_CLUSTER") {
		t.Errorf("single-node env names a cluster:\n%s", single)
	}
}
