package testenv

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"
)

func TestFromVariables(t *testing.T) {
	tests := []struct {
		name    string
		vars    map[string]string
		wantOK  bool
		wantErr string
		brokers int
	}{
		{name: "none set falls through", vars: map[string]string{}},
		{name: "all set", wantOK: true, brokers: 2, vars: map[string]string{
			"TRIBUTARY_NATS_URL": "nats://h:4222", "TRIBUTARY_KAFKA_BROKERS": "a:9092,b:9092", "TRIBUTARY_CLICKHOUSE_ADDR": "h:9000"}},
		{name: "partial set is an error naming what is missing", wantOK: true, wantErr: "TRIBUTARY_CLICKHOUSE_ADDR",
			vars: map[string]string{"TRIBUTARY_NATS_URL": "nats://h:4222", "TRIBUTARY_KAFKA_BROKERS": "a:9092"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, k := range []string{"TRIBUTARY_NATS_URL", "TRIBUTARY_KAFKA_BROKERS", "TRIBUTARY_CLICKHOUSE_ADDR"} {
				t.Setenv(k, tt.vars[k])
			}
			env, ok, err := fromVariables()
			if ok != tt.wantOK {
				t.Fatalf("ok = %v, want %v", ok, tt.wantOK)
			}
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want mention of %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ok && len(env.KafkaBrokers) != tt.brokers {
				t.Fatalf("brokers = %v, want %d", env.KafkaBrokers, tt.brokers)
			}
		})
	}
}

// TestServersAnswer talks to each server and logs its version, so every
// integration run records what it ran against.
func TestServersAnswer(t *testing.T) {
	env := Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatalf("connect nats %s: %v", env.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		t.Fatalf("nats %s has no JetStream: %v", env.NATSURL, err)
	}

	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...)}
	meta, err := client.Metadata(ctx, &kafka.MetadataRequest{})
	if err != nil {
		t.Fatalf("kafka %v metadata: %v", env.KafkaBrokers, err)
	}
	if len(meta.Brokers) == 0 {
		t.Fatalf("kafka %v lists no brokers", env.KafkaBrokers)
	}

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var chVersion string
	if err := conn.QueryRow(ctx, "SELECT version()").Scan(&chVersion); err != nil {
		t.Fatalf("clickhouse %s: %v", env.ClickHouseAddr, err)
	}
	kafkaVersion := env.KafkaVersion
	if kafkaVersion == "" {
		kafkaVersion = "unknown (set TRIBUTARY_KAFKA_VERSION)"
	}
	t.Logf("servers from %s: nats-server %s, Apache Kafka %s (%d broker(s), cluster %s), ClickHouse %s",
		env.Source, nc.ConnectedServerVersion(), kafkaVersion, len(meta.Brokers), meta.ClusterID, chVersion)
}
