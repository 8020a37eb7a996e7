//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// poison is one message that can never succeed.
type poison struct {
	kind, id, topic string
	msg             *message.Message
}

// poisonFrom derives the four poison kinds from a good event: an
// undecodable body, a schema-invalid field, an oversize body (the consumer
// runs with -max-event-size 256 KiB) and an unknown type.
func poisonFrom(t *testing.T, good schemas.Envelope, topic, badField string, badValue any) []poison {
	t.Helper()
	mk := func(kind string, body []byte, edit func(md message.Metadata)) poison {
		fresh, err := schemas.NewEvent(good.Source, good.Tenant, schemas.Logout{User: "x"})
		if err != nil {
			t.Fatal(err)
		}
		msg := message.NewMessage(fresh.ID, body)
		for k, v := range good.Metadata() {
			msg.Metadata.Set(k, v)
		}
		msg.Metadata.Set(schemas.MetaID, fresh.ID)
		if edit != nil {
			edit(msg.Metadata)
		}
		return poison{kind: kind, id: fresh.ID, topic: topic, msg: msg}
	}
	withField := func(k string, v any) []byte {
		var m map[string]any
		if err := json.Unmarshal(good.Data, &m); err != nil {
			t.Fatal(err)
		}
		m[k] = v
		b, _ := json.Marshal(m)
		return b
	}
	info, _ := schemas.Lookup(good.Type)
	return []poison{
		mk("undecodable", []byte(`{"user":`), nil),
		mk("schema-invalid", withField(badField, badValue), nil),
		mk("oversize", withField("padding", strings.Repeat("x", 300<<10)), nil),
		mk("unknown-type", good.Data, func(md message.Metadata) {
			md.Set(schemas.MetaType, schemas.TypePrefix+string(info.Family)+".teleported")
		}),
	}
}

func testPoison(ctx context.Context, t *testing.T, env *testenv.Env, conn driver.Conn, tenant string) {
	tenant += "p"
	sdk, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/faults"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers})
	if err != nil {
		t.Fatal(err)
	}
	defer sdk.Close()
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	jsPub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	kPub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: env.KafkaBrokers})
	if err != nil {
		t.Fatal(err)
	}
	defer kPub.Close()

	goodAuth, goodMetric := event(t, "auth_events", tenant, 0), event(t, "telemetry_metrics", tenant, 0)
	poisons := append(
		poisonFrom(t, goodAuth, "auth."+tenant+".login.failed", "source_ip", "not-an-ip"),
		poisonFrom(t, goodMetric, "telemetry.metrics", "name", "bad name!")...)

	// Good events before and after every poison message, on both transports.
	want := mix{"auth_events": 0, "telemetry_metrics": 0}
	sendGood := func() {
		for _, table := range []string{"auth_events", "telemetry_metrics"} {
			if _, err := sdk.Publish(ctx, event(t, table, tenant, want[table])); err != nil {
				t.Fatalf("publish good: %v", err)
			}
			want[table]++
		}
	}
	sendGood()
	for _, p := range poisons {
		var err error
		if strings.HasPrefix(p.topic, "auth.") {
			err = jsPub.PublishContext(ctx, p.topic, p.msg)
		} else {
			err = kPub.PublishContext(ctx, p.topic, p.msg)
		}
		if err != nil {
			t.Fatalf("publish %s poison to %s: %v", p.kind, p.topic, err)
		}
		sendGood()
	}
	start := time.Now()
	waitLanded(ctx, t, conn, tenant, want, []string{"auth_events", "telemetry_metrics"})
	t.Logf("all %d good events around the poison landed", want.total())

	ids := make([]string, len(poisons))
	for i, p := range poisons {
		ids[i] = p.id
	}
	type row struct {
		ID        string   `ch:"event_id"`
		Family    string   `ch:"family"`
		Transport string   `ch:"transport"`
		Topic     string   `ch:"topic"`
		Reason    string   `ch:"reason"`
		Keys      []string `ch:"headers.key"`
		Payload   string   `ch:"payload"`
	}
	var rows []row
	err = poll.Until(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		rows = rows[:0]
		if err := conn.Select(ctx, &rows, "SELECT event_id, family, transport, topic, reason, `headers.key`, payload FROM dead_letters WHERE has(?, event_id)", ids); err != nil {
			return false, err
		}
		if len(rows) < len(poisons) {
			return false, fmt.Errorf("dead_letters holds %d of %d poison messages", len(rows), len(poisons))
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("poison messages not dead-lettered: %v", err)
	}
	t.Logf("all %d poison messages in dead_letters %s after the good ones", len(poisons), time.Since(start).Round(time.Millisecond))
	byID := map[string]row{}
	for _, r := range rows {
		byID[r.ID] = r
	}
	for _, p := range poisons {
		r, ok := byID[p.id]
		switch {
		case !ok:
			t.Errorf("%s on %s: not in dead_letters", p.kind, p.topic)
		case r.Reason == "" || !slices.Contains(r.Keys, schemas.MetaType) || r.Payload != string(p.msg.Payload):
			t.Errorf("%s on %s: row %s/%s reason %q headers %v payload %d bytes (want %d)", p.kind, p.topic, r.Family, r.Transport,
				r.Reason, r.Keys, len(r.Payload), len(p.msg.Payload))
		default:
			t.Logf("%-14s %-9s family %-9s topic %-18s reason: %.110s", p.kind, r.Transport, r.Family, r.Topic, r.Reason)
		}
	}
}
