package kafkabus

import (
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
)

func TestPublisherConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     PublisherConfig
		wantErr []string // substrings that must all appear; none: valid
	}{
		{name: "defaults with a broker", cfg: PublisherConfig{Brokers: []string{"k:9092"}}},
		{name: "zstd", cfg: PublisherConfig{Brokers: []string{"k:9092"}, Compression: "zstd"}},
		{name: "no brokers", cfg: PublisherConfig{}, wantErr: []string{"Brokers"}},
		{name: "blank broker", cfg: PublisherConfig{Brokers: []string{" "}}, wantErr: []string{"Brokers[0]"}},
		{name: "every mistake at once", cfg: PublisherConfig{
			Compression: "brotli", BatchTimeout: -1, MaxAttempts: -1,
			Security: SecurityConfig{SASL: &SASLConfig{Mechanism: "GSSAPI"}},
		}, wantErr: []string{"Brokers", "Compression", "BatchTimeout", "MaxAttempts", "Mechanism", "Username"}},
		{name: "scram ok", cfg: PublisherConfig{Brokers: []string{"k:9092"},
			Security: SecurityConfig{SASL: &SASLConfig{Mechanism: SASLScramSHA512, Username: "u", Password: "p"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, DefaultPublisherConfig(tt.cfg).Validate(), tt.wantErr)
		})
	}
}

func TestSubscriberConfigValidate(t *testing.T) {
	ok := SubscriberConfig{Brokers: []string{"k:9092"}, GroupID: "g"}
	tests := []struct {
		name    string
		mod     func(*SubscriberConfig)
		wantErr []string
	}{
		{name: "defaults", mod: func(*SubscriberConfig) {}},
		{name: "pipelined latest, opted in", mod: func(c *SubscriberConfig) {
			c.MaxInFlightPerPartition = 1000
			c.StartFrom = StartLatest
			c.AllowLatest = true
		}},
		{name: "latest without opt-in", mod: func(c *SubscriberConfig) { c.StartFrom = StartLatest }, wantErr: []string{"StartFrom", "AllowLatest"}},
		{name: "no group", mod: func(c *SubscriberConfig) { c.GroupID = "" }, wantErr: []string{"GroupID"}},
		{name: "bad start", mod: func(c *SubscriberConfig) { c.StartFrom = "middle" }, wantErr: []string{"StartFrom"}},
		{name: "negative window", mod: func(c *SubscriberConfig) { c.MaxInFlightPerPartition = -1 }, wantErr: []string{"MaxInFlightPerPartition"}},
		{name: "drain not below rebalance", mod: func(c *SubscriberConfig) { c.DrainTimeout = time.Minute }, wantErr: []string{"DrainTimeout", "RebalanceTimeout"}},
		{name: "heartbeat not below session", mod: func(c *SubscriberConfig) { c.HeartbeatInterval = time.Minute }, wantErr: []string{"HeartbeatInterval"}},
		{name: "all at once", mod: func(c *SubscriberConfig) {
			c.Brokers = nil
			c.GroupID = ""
			c.CommitInterval = -time.Second
			c.NackDelay = -1
		}, wantErr: []string{"Brokers", "GroupID", "CommitInterval", "NackDelay"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := ok
			tt.mod(&cfg)
			checkErr(t, DefaultSubscriberConfig(cfg).Validate(), tt.wantErr)
		})
	}
}

func checkErr(t *testing.T, err error, want []string) {
	t.Helper()
	if len(want) == 0 {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	if err == nil {
		t.Fatalf("no error, want one naming %v", want)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error %q does not name %s", err, w)
		}
	}
}

// TestPublisherRequiresAllAcks: kafka-go's zero RequiredAcks is acks=none.
func TestPublisherRequiresAllAcks(t *testing.T) {
	p, err := NewPublisher(PublisherConfig{Brokers: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	if got := p.RequiredAcks(); got != kafka.RequireAll {
		t.Fatalf("RequiredAcks = %v, want RequireAll", got)
	}
	if p.writer.BatchTimeout >= 100*time.Millisecond {
		t.Fatalf("BatchTimeout = %s: sync publishes would wait that long", p.writer.BatchTimeout)
	}
}

func TestCloseTwice(t *testing.T) {
	p, err := NewPublisher(PublisherConfig{Brokers: []string{"127.0.0.1:1"}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := p.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Publish("t", message.NewMessage("1", nil)); err != ErrClosed {
		t.Fatalf("publish after close: %v, want ErrClosed", err)
	}
	s, err := NewSubscriber(SubscriberConfig{Brokers: []string{"127.0.0.1:1"}, GroupID: "g"})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.Subscribe(t.Context(), "t"); err != ErrClosed {
		t.Fatalf("subscribe after close: %v, want ErrClosed", err)
	}
}

func TestRecordRoundTrip(t *testing.T) {
	tests := []struct {
		name    string
		md      map[string]string
		keyFunc KeyFunc
		wantKey string
		wantMD  map[string]string
	}{
		{name: "no key", md: map[string]string{"a": "1"}, keyFunc: KeyFromPartitionKey, wantMD: map[string]string{"a": "1"}},
		{name: "partition key", md: map[string]string{bus.MetadataPartitionKey: "dev-1"}, keyFunc: KeyFromPartitionKey,
			wantKey: "dev-1", wantMD: map[string]string{bus.MetadataPartitionKey: "dev-1"}},
		{name: "custom key func", md: nil, keyFunc: func(topic string, _ *message.Message) ([]byte, error) { return []byte(topic), nil },
			wantKey: "orders", wantMD: map[string]string{}},
		{name: "metadata ce_id never overrides the UUID", md: map[string]string{bus.HeaderEventID: "other"}, keyFunc: KeyFromPartitionKey,
			wantMD: map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := message.NewMessage("id-1", []byte("payload"))
			for k, v := range tt.md {
				in.Metadata.Set(k, v)
			}
			rec, err := toRecord("orders", in, tt.keyFunc)
			if err != nil {
				t.Fatal(err)
			}
			if string(rec.Key) != tt.wantKey || (tt.wantKey == "" && rec.Key != nil) {
				t.Errorf("key = %q, want %q", rec.Key, tt.wantKey)
			}
			out := fromRecord(rec)
			if out.UUID != "id-1" || string(out.Payload) != "payload" {
				t.Errorf("got uuid %q payload %q", out.UUID, out.Payload)
			}
			if len(out.Metadata) != len(tt.wantMD) {
				t.Errorf("metadata = %v, want %v", out.Metadata, tt.wantMD)
			}
			for k, v := range tt.wantMD {
				if out.Metadata.Get(k) != v {
					t.Errorf("metadata[%s] = %q, want %q", k, out.Metadata.Get(k), v)
				}
			}
		})
	}
}

func TestForeignRecordGetsPositionID(t *testing.T) {
	msg := fromRecord(kafka.Message{Topic: "t", Partition: 2, Offset: 42, Value: []byte("x")})
	if msg.UUID != "kafka:t:2:42" {
		t.Fatalf("UUID = %q", msg.UUID)
	}
}
