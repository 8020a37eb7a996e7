package testenv

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/segmentio/kafka-go"
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
	// Asked in Kafka's protocol with a transport of its own: a bare TCP dial
	// can be answered by whatever binds the freed port next (parallel test
	// binaries pick free ports too) or by a loopback self-connect.
	transport := &kafka.Transport{}
	defer transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	client := &kafka.Client{Addr: kafka.TCP(addr), Transport: transport}
	if _, err := client.Metadata(ctx, &kafka.MetadataRequest{}); err == nil {
		t.Fatalf("kafka still answers at %s after SIGKILL", addr)
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
