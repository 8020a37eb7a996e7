//go:build faults

package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// oversizeEvents is how many good events surround the oversize records.
const oversizeEvents = 20_000

// oversizeMaxEvent is the ingest's -max-event-size in this test: a
// JetStream message can be over it while within NATS's max_payload.
const oversizeMaxEvent = 256 << 10

// Values the terminal path writes (consumers/internal/ingest.Store); the
// test reads them as an analyst would, so it spells them out.
const (
	directPayloadBytes = 64 << 10
	metaPayloadBytes   = "tributary_payload_bytes"
	metaDeadLetterPath = "tributary_dead_letter_path"
)

// oversized is one record over the limit that must end in dead_letters.
type oversized struct {
	transport, id string
	size          int
}

// TestIngestOversizeRecords publishes, on each transport, one record over
// every limit on its way to a dead-letter destination, then good events
// behind it on the same subscriptions:
//   - Kafka: a 1.5 MiB record, accepted by the broker because its producer
//     compresses (the batch is a few KiB), over ingest's event limit, and
//     over the 1 MiB its dead-letter publish may carry;
//   - JetStream: a message a few bytes under NATS's max_payload, over
//     ingest's -max-event-size; the poison metadata its dead-letter copy
//     carries pushes that copy over max_payload.
//
// Before issue 11 (item 3) both were nacked forever and the Kafka
// partition stalled. Now each must land in dead_letters directly (reason,
// original size, truncated payload), every good event must land once, and
// nothing else may be dead-lettered.
func TestIngestOversizeRecords(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(oversizeEvents)
	conn := openCH(ctx, t, env, db)
	proc := startIngest(t, bin, env, db, group, "-max-event-size", strconv.Itoa(oversizeMaxEvent))

	// Provision streams and topics before writing around the SDK.
	sdk, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/faults"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Provision: true})
	if err != nil {
		t.Fatal(err)
	}
	sdk.Close()
	big := []oversized{publishOversizeKafka(ctx, t, env, tenant), publishOversizeJetStream(ctx, t, env, tenant)}
	start := time.Now()
	// The good events queue behind the oversize ones: they land only if
	// the partition and the durable move on.
	p := publishMix(ctx, t, env, tenant, want)
	p.wait(t, want.total())
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))

	type row struct {
		ID        string   `ch:"event_id"`
		Transport string   `ch:"transport"`
		Reason    string   `ch:"reason"`
		Keys      []string `ch:"headers.key"`
		Values    []string `ch:"headers.value"`
		Payload   string   `ch:"payload"`
	}
	var rows []row
	ids := []string{big[0].id, big[1].id}
	err = poll.Until(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		rows = rows[:0]
		if err := conn.Select(ctx, &rows, "SELECT event_id, transport, reason, `headers.key`, `headers.value`, payload FROM dead_letters WHERE has(?, event_id)", ids); err != nil {
			return false, err
		}
		if len(rows) < len(big) {
			return false, fmt.Errorf("dead_letters holds %d of %d oversize records", len(rows), len(big))
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("oversize records not dead-lettered: %v", err)
	}
	deadBy := time.Now()
	for _, b := range big {
		i := slices.IndexFunc(rows, func(r row) bool { return r.ID == b.id })
		if i < 0 {
			t.Errorf("%s oversize record %s not in dead_letters", b.transport, b.id)
			continue
		}
		r := rows[i]
		header := func(k string) string {
			if j := slices.Index(r.Keys, k); j >= 0 {
				return r.Values[j]
			}
			return ""
		}
		if r.Transport != b.transport || !strings.Contains(r.Reason, "more than the limit") || len(r.Payload) != directPayloadBytes ||
			header(metaPayloadBytes) != strconv.Itoa(b.size) || header(metaDeadLetterPath) != "direct" {
			t.Errorf("%s oversize record: transport %s, reason %q, payload %d bytes, %s=%q, %s=%q; want %s, a size reason, %d bytes, %d, direct",
				b.transport, r.Transport, r.Reason, len(r.Payload), metaPayloadBytes, header(metaPayloadBytes),
				metaDeadLetterPath, header(metaDeadLetterPath), b.transport, directPayloadBytes, b.size)
			continue
		}
		t.Logf("%-9s %d-byte record in dead_letters directly: reason %.90q", b.transport, b.size, r.Reason)
	}
	f := measure(ctx, t, conn, tenant, want)
	t.Logf("FIGURES oversize-records (%d good events, 1 oversize record per transport): %s, recovery %.1f s (every good event landed %.1f s and both oversize records were stored %.1f s after the first good publish)",
		want.total(), f, latest(end, deadBy).Sub(start).Seconds(), end.Sub(start).Seconds(), deadBy.Sub(start).Seconds())
	if f.missing != 0 || f.duplicated != 0 || f.deadLettered != len(big) {
		t.Errorf("%s: want nothing missing or duplicated and exactly the %d oversize records dead-lettered", f, len(big))
	}
	logStats(t, proc)
}

// oversizePayload is a metric event's JSON grown to n bytes by a padding
// field that compresses to almost nothing.
func oversizePayload(t *testing.T, good schemas.Envelope, n int) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(good.Data, &m); err != nil {
		t.Fatal(err)
	}
	base, _ := json.Marshal(m)
	m["padding"] = strings.Repeat("x", n-len(base)-len(`,"padding":""`))
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != n {
		t.Fatalf("payload is %d bytes, want %d", len(b), n)
	}
	return b
}

// publishOversizeKafka writes a 1.5 MiB metric record with gzip, as a
// compressing producer may: the broker checks the compressed batch.
func publishOversizeKafka(ctx context.Context, t *testing.T, env *testenv.Env, tenant string) oversized {
	t.Helper()
	ev := event(t, "telemetry_metrics", tenant, 0) // never published as a good event
	good := ev
	payload := oversizePayload(t, good, 3<<19)
	headers := []kafka.Header{{Key: bus.HeaderEventID, Value: []byte(ev.ID)}}
	for k, v := range good.Metadata() {
		if k != bus.HeaderEventID && k != schemas.MetaID {
			headers = append(headers, kafka.Header{Key: k, Value: []byte(v)})
		}
	}
	w := &kafka.Writer{Addr: kafka.TCP(env.KafkaBrokers...), Topic: "telemetry.metrics", RequiredAcks: kafka.RequireAll,
		Compression: kafka.Gzip, BatchBytes: 8 << 20, BatchTimeout: time.Millisecond}
	defer w.Close()
	if err := w.WriteMessages(ctx, kafka.Message{Key: []byte("oversize"), Value: payload, Headers: headers}); err != nil {
		t.Fatalf("write oversize Kafka record: %v", err)
	}
	t.Logf("kafka: %d-byte record %s written compressed", len(payload), ev.ID)
	return oversized{transport: string(schemas.TransportKafka), id: ev.ID, size: len(payload)}
}

// publishOversizeJetStream publishes a login event that fills NATS's
// max_payload to within a few bytes.
func publishOversizeJetStream(ctx context.Context, t *testing.T, env *testenv.Env, tenant string) oversized {
	t.Helper()
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ev := event(t, "auth_events", tenant, 0) // never published as a good event
	good := ev
	subject := "auth." + tenant + ".login.failed"
	m := nats.NewMsg(subject)
	for k, v := range good.Metadata() {
		if k != bus.HeaderEventID && k != schemas.MetaID {
			m.Header.Set(k, v)
		}
	}
	m.Header.Set(bus.HeaderEventID, ev.ID)
	m.Header.Set(nats.MsgIdHdr, ev.ID+"@"+subject)
	// The header block as nats.go encodes it: a status line, "k: v" lines
	// and a blank line. Leave 16 bytes spare so this publish fits and the
	// dead-letter copy, with its poison metadata, cannot.
	hdr := len("NATS/1.0\r\n") + len("\r\n")
	for k, vs := range m.Header {
		for _, v := range vs {
			hdr += len(k) + len(": ") + len(v) + len("\r\n")
		}
	}
	size := int(nc.MaxPayload()) - hdr - 16
	if size <= oversizeMaxEvent {
		t.Fatalf("max_payload %d leaves %d bytes: not over the ingest limit %d", nc.MaxPayload(), size, oversizeMaxEvent)
	}
	m.Data = oversizePayload(t, good, size)
	if _, err := js.PublishMsg(ctx, m); err != nil {
		t.Fatalf("publish %d-byte JetStream message (max_payload %d): %v", size, nc.MaxPayload(), err)
	}
	t.Logf("jetstream: %d-byte message %s published (max_payload %d)", size, ev.ID, nc.MaxPayload())
	return oversized{transport: string(schemas.TransportJetStream), id: ev.ID, size: size}
}
