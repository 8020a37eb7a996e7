package natsbus

import (
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/tributary-io/tributary/infra/bus"
)

func TestSubscriberConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		cfg     SubscriberConfig
		wantErr []string
	}{
		{name: "defaults", cfg: SubscriberConfig{Durable: "ingest"}},
		{name: "tuned", cfg: SubscriberConfig{Durable: "sink_1", MaxAckPending: 5000, FetchBatch: 500, MaxDeliver: 20, StartFrom: StartLatest}},
		{name: "no durable", cfg: SubscriberConfig{}, wantErr: []string{"Durable"}},
		{name: "dotted durable", cfg: SubscriberConfig{Durable: "a.b"}, wantErr: []string{"Durable"}},
		{name: "count-only pulls", cfg: SubscriberConfig{Durable: "d", PullMaxBytes: -1}},
		{name: "bad pull bytes", cfg: SubscriberConfig{Durable: "d", PullMaxBytes: -2}, wantErr: []string{"PullMaxBytes"}},
		{name: "batch above pending", cfg: SubscriberConfig{Durable: "d", MaxAckPending: 10, FetchBatch: 11}, wantErr: []string{"FetchBatch"}},
		{name: "all at once", cfg: SubscriberConfig{AckWait: time.Millisecond, MaxDeliver: -5, NakDelay: time.Second, MaxNakDelay: time.Millisecond, StartFrom: "x"},
			wantErr: []string{"Durable", "AckWait", "MaxDeliver", "MaxNakDelay", "StartFrom"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, DefaultSubscriberConfig(tt.cfg).Validate(), tt.wantErr)
		})
	}
}

func TestStreamSpecValidate(t *testing.T) {
	tests := []struct {
		name    string
		spec    StreamSpec
		wantErr []string
	}{
		{name: "minimal", spec: StreamSpec{Name: "EVENTS", Subjects: []string{"events.>"}}},
		{name: "dedup window above max age", spec: StreamSpec{Name: "E", Subjects: []string{"e"}, MaxAge: time.Minute, Duplicates: time.Hour}, wantErr: []string{"Duplicates"}},
		{name: "all at once", spec: StreamSpec{Name: "a b", Replicas: 7, MaxAge: -2}, wantErr: []string{"Name", "Subjects", "Replicas", "MaxAge"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkErr(t, tt.spec.withDefaults().Validate(), tt.wantErr)
		})
	}
}

func TestNakDelay(t *testing.T) {
	cfg := DefaultSubscriberConfig(SubscriberConfig{Durable: "d", NakDelay: 100 * time.Millisecond, MaxNakDelay: time.Second})
	tests := []struct {
		delivered uint64
		want      time.Duration
	}{
		{0, 100 * time.Millisecond},
		{1, 100 * time.Millisecond},
		{2, 200 * time.Millisecond},
		{4, 800 * time.Millisecond},
		{5, time.Second},
		{1000, time.Second},
	}
	for _, tt := range tests {
		if got := cfg.nakDelay(tt.delivered); got != tt.want {
			t.Errorf("nakDelay(%d) = %s, want %s", tt.delivered, got, tt.want)
		}
	}
}

func TestMessageRoundTrip(t *testing.T) {
	in := message.NewMessage("id-1", []byte("payload"))
	in.Metadata.Set(bus.MetadataPartitionKey, "dev-1")
	in.Metadata.Set("ce_type", "reading")
	in.Metadata.Set(bus.HeaderEventID, "other")          // the UUID wins
	in.Metadata.Set("Nats-Expected-Stream", "SOMETHING") // reserved: never sent
	m := toNATS("events.reading", in)
	if got := m.Header.Get(nats.MsgIdHdr); got != "id-1@events.reading" {
		t.Errorf("Nats-Msg-Id = %q", got)
	}
	if got := m.Header.Get("Nats-Expected-Stream"); got != "" {
		t.Errorf("reserved header sent: %q", got)
	}
	out := fromNATS(m.Header, m.Data, "EVENTS", 9)
	if out.UUID != "id-1" || string(out.Payload) != "payload" {
		t.Fatalf("got %q %q", out.UUID, out.Payload)
	}
	want := map[string]string{bus.MetadataPartitionKey: "dev-1", "ce_type": "reading"}
	if len(out.Metadata) != len(want) {
		t.Errorf("metadata = %v, want %v", out.Metadata, want)
	}
	for k, v := range want {
		if out.Metadata.Get(k) != v {
			t.Errorf("metadata[%s] = %q, want %q", k, out.Metadata.Get(k), v)
		}
	}
}

func TestForeignMessageIDs(t *testing.T) {
	tests := []struct {
		name   string
		header nats.Header
		want   string
	}{
		{name: "msg id only", header: nats.Header{nats.MsgIdHdr: {"abc"}}, want: "abc"},
		{name: "nothing", header: nats.Header{}, want: "nats:EVENTS:9"},
	}
	for _, tt := range tests {
		if got := fromNATS(tt.header, nil, "EVENTS", 9).UUID; got != tt.want {
			t.Errorf("%s: UUID = %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestConsumerName(t *testing.T) {
	a, b := consumerName("g", "orders.*"), consumerName("g", "orders_*")
	if a == b {
		t.Fatalf("subjects that sanitize alike share consumer %q", a)
	}
	if consumerName("g", "orders.*") != a {
		t.Fatal("consumer name not stable")
	}
	for _, n := range []string{a, b, consumerName("g", strings.Repeat("x.", 200)+">")} {
		if !validName(n) || len(n) > 128 {
			t.Errorf("invalid consumer name %q", n)
		}
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
