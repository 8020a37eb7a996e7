package contract

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestProvisionRetention: what provisioning creates expires. Streams had
// no max age or size and topics the broker's defaults, so the bus grew
// until the disk was full.
func TestProvisionRetention(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	ctx := testContext(t, time.Minute)
	run := strings.ToLower(watermill.NewShortUUID())
	stream, topic := "RETAIN_"+run, uniqueName(t, "retain")
	p := schemas.Provisioning{Streams: []schemas.StreamSpec{{Name: stream, Subjects: []string{"retain." + run + ".>"}}},
		Topics: []string{topic}}
	t.Cleanup(func() { _ = js.DeleteStream(testContext(t, 10*time.Second), stream) })
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 10 * time.Second}
	t.Cleanup(func() {
		_, _ = client.DeleteTopics(testContext(t, 10*time.Second), &kafka.DeleteTopicsRequest{Topics: []string{topic}})
	})
	if err := provision.Apply(ctx, provision.Config{}, js, env.KafkaBrokers, p); err != nil {
		t.Fatal(err)
	}

	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if c := info.Config; c.MaxAge != provision.DefaultRetention || c.MaxBytes != provision.DefaultStreamBytes {
		t.Errorf("stream %s: MaxAge %s MaxBytes %d, want %s and %d", stream, c.MaxAge, c.MaxBytes,
			provision.DefaultRetention, provision.DefaultStreamBytes)
	}

	resp, err := client.DescribeConfigs(ctx, &kafka.DescribeConfigsRequest{Resources: []kafka.DescribeConfigRequestResource{{
		ResourceType: kafka.ResourceTypeTopic, ResourceName: topic, ConfigNames: []string{"retention.ms", "retention.bytes"}}}})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range resp.Resources {
		if r.Error != nil {
			t.Fatal(r.Error)
		}
		for _, e := range r.ConfigEntries {
			got[e.ConfigName] = e.ConfigValue
		}
	}
	want := map[string]string{
		"retention.ms":    strconv.FormatInt(provision.DefaultRetention.Milliseconds(), 10),
		"retention.bytes": strconv.FormatInt(provision.DefaultTopicBytes, 10),
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("topic %s: %s = %q, want %q", topic, k, got[k], v)
		}
	}
}

// TestJetStreamPullBufferBoundedByBytes: with nothing handed out yet, the
// client buffers what fits PullMaxBytes (default: twice the server's max
// payload), not a count of messages whatever their size. Bounded by count
// (FetchBatch 100), twelve messages of half the max payload — six times
// the max payload — were all pulled into memory at once.
func TestJetStreamPullBufferBoundedByBytes(t *testing.T) {
	env := testenv.Get(t)
	nc := connectNATS(t, env)
	js := newJS(t, env)
	stream, prefix := jsStream(t, js)
	const n = 12
	size := int(nc.MaxPayload()) / 2
	limit := 2 * int(nc.MaxPayload())
	subject := prefix + ".big"
	ctx := testContext(t, 2*time.Minute)
	for i := range n {
		body := append([]byte(strconv.Itoa(i)+":"), bytes.Repeat([]byte("x"), size-1024)...)
		if _, err := js.PublishMsg(ctx, &nats.Msg{Subject: subject, Data: body, Header: nats.Header{"Nats-Msg-Id": {stream + strconv.Itoa(i)}}}); err != nil {
			t.Fatal(err)
		}
	}
	sub := newJSSubscriber(t, js, "bounded", func(c *natsbus.SubscriberConfig) {
		c.MaxAckPending, c.FetchBatch = 1000, 100
	})
	ch, err := sub.Subscribe(ctx, subject)
	if err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	var name string
	for ci := range st.ListConsumers(ctx).Info() {
		name = ci.Name
	}
	cons, err := st.Consumer(ctx, name)
	if err != nil {
		t.Fatalf("the subscriber's consumer %q: %v", name, err)
	}
	// The handler takes nothing: everything delivered is buffered (or is
	// the one message waiting to be handed out).
	poll.Eventually(t, 10*time.Second, 100*time.Millisecond, func() error {
		ci, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if ci.NumAckPending == 0 {
			return fmt.Errorf("nothing delivered yet")
		}
		return nil
	})
	time.Sleep(2 * time.Second) // let the pull loop fetch all it would
	ci, err := cons.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if most := limit/size + 1; ci.NumAckPending > most {
		t.Fatalf("%d messages of %d KiB pulled with none handled, want at most %d (twice the max payload, %d KiB)",
			ci.NumAckPending, size>>10, most, limit>>10)
	}
	// Bounded, not stalled: every message still arrives.
	if got := receive(t, ch, n, time.Minute); len(got) != n {
		t.Fatalf("received %d of %d", len(got), n)
	}
}
