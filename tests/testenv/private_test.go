package testenv

import (
	"net"
	"testing"
)

// TestPrivateKillAndStart proves fault tests get servers of their own that
// really die and come back.
func TestPrivateKillAndStart(t *testing.T) {
	env := Private(t)
	servers := env.ServersOrFail(t)
	addr := env.KafkaBrokers[0]
	if err := servers.Kill(Kafka); err != nil {
		t.Fatal(err)
	}
	if conn, err := net.Dial("tcp", addr); err == nil {
		conn.Close()
		t.Fatalf("kafka still accepts connections at %s after SIGKILL", addr)
	}
	if err := servers.Start(Kafka); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("kafka not back at %s: %v", addr, err)
	}
	conn.Close()
	if err := servers.Restart(ClickHouse); err != nil {
		t.Fatal(err)
	}
}
