package contract

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// kafkaTopic provisions a fresh topic for one test.
func kafkaTopic(t *testing.T, env *testenv.Env, partitions int) string {
	t.Helper()
	topic := uniqueName(t, "adapter")
	if err := kafkabus.EnsureTopics(testContext(t, 30*time.Second), env.KafkaBrokers,
		[]kafkabus.TopicSpec{{Name: topic, Partitions: partitions, ReplicationFactor: 1}}); err != nil {
		t.Fatal(err)
	}
	return topic
}

func newKafkaPublisher(t *testing.T, env *testenv.Env) *kafkabus.Publisher {
	t.Helper()
	pub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: env.KafkaBrokers, Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

func newKafkaSubscriber(t *testing.T, env *testenv.Env, group string, tune func(*kafkabus.SubscriberConfig)) *kafkabus.Subscriber {
	t.Helper()
	cfg := kafkabus.SubscriberConfig{
		Brokers:           env.KafkaBrokers,
		GroupID:           group,
		CommitInterval:    200 * time.Millisecond,
		HeartbeatInterval: 500 * time.Millisecond,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		DrainTimeout:      3 * time.Second,
		NackDelay:         10 * time.Millisecond,
		Logger:            testLogger(),
	}
	if tune != nil {
		tune(&cfg)
	}
	sub, err := kafkabus.NewSubscriber(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// TestKafkaSyncPublishLatency guards against kafka-go's 1s default
// BatchTimeout, which makes every synchronous publish take about a second.
// A regression guard with a generous bound, not a benchmark.
func TestKafkaSyncPublishLatency(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	// Warm-up: connection and metadata.
	if err := pub.Publish(topic, newMessages(1, func(int) string { return "warm" })...); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		start := time.Now()
		if err := pub.Publish(topic, newMessages(1, func(int) string { return "x" })...); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d > 500*time.Millisecond {
			t.Fatalf("publish %d took %s; BatchTimeout is holding sync publishes back", i, d)
		}
	}
}

// TestKafkaRecordCarriesEventID reads the raw record: the event id is in
// the ce_id header (the publisher is not idempotent, so consumers dedup by
// it), metadata are headers as-is and the key is ce_partitionkey.
func TestKafkaRecordCarriesEventID(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	msg := newMessages(1, func(int) string { return "payload" })[0]
	msg.Metadata.Set(bus.MetadataPartitionKey, "device-7")
	msg.Metadata.Set("ce_type", "reading")
	if err := pub.Publish(topic, msg); err != nil {
		t.Fatal(err)
	}
	r := kafka.NewReader(kafka.ReaderConfig{Brokers: env.KafkaBrokers, Topic: topic, Partition: 0, MaxWait: 200 * time.Millisecond})
	defer r.Close()
	rec, err := r.ReadMessage(testContext(t, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	headers := map[string]string{}
	for _, h := range rec.Headers {
		headers[h.Key] = string(h.Value)
	}
	want := map[string]string{bus.HeaderEventID: msg.UUID, bus.MetadataPartitionKey: "device-7", "ce_type": "reading"}
	for k, v := range want {
		if headers[k] != v {
			t.Errorf("header %s = %q, want %q (all: %v)", k, headers[k], v, headers)
		}
	}
	if string(rec.Key) != "device-7" {
		t.Errorf("key = %q, want device-7", rec.Key)
	}
}

// TestKafkaNackRedeliversInOrder: with the default window of 1 a nacked
// message comes back before anything after it.
func TestKafkaNackRedeliversInOrder(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	msgs := newMessages(3, strconv.Itoa)
	if err := pub.Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
	sub := newKafkaSubscriber(t, env, uniqueName(t, "g"), nil)
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	var order []string
	nacked := 0
	timeout := time.After(30 * time.Second)
	for len(order) < 3 {
		select {
		case m := <-ch:
			if m.UUID == msgs[1].UUID && nacked < 2 {
				nacked++
				m.Nack()
				continue
			}
			order = append(order, m.UUID)
			m.Ack()
		case <-timeout:
			t.Fatalf("timed out; got %v", order)
		}
	}
	for i, m := range msgs {
		if order[i] != m.UUID {
			t.Fatalf("order %v, want %v then %v then %v", order, msgs[0].UUID, msgs[1].UUID, msgs[2].UUID)
		}
	}
}

// TestKafkaOrderingWithinPartition: messages with the same key (one
// partition) arrive in publish order, across concurrently consumed partitions.
func TestKafkaOrderingWithinPartition(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 3)
	pub := newKafkaPublisher(t, env)
	const keys, perKey = 5, 60
	var msgs []*message.Message
	for i := range perKey {
		for k := range keys {
			m := newMessages(1, func(int) string { return strconv.Itoa(i) })[0]
			m.Metadata.Set(bus.MetadataPartitionKey, fmt.Sprintf("key-%d", k))
			msgs = append(msgs, m)
		}
	}
	// Several publish calls, so ordering holds across requests too.
	for start := 0; start < len(msgs); start += 50 {
		if err := pub.Publish(topic, msgs[start:start+50]...); err != nil {
			t.Fatal(err)
		}
	}
	sub := newKafkaSubscriber(t, env, uniqueName(t, "g"), nil)
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	last := map[string]int{}
	for _, m := range receive(t, ch, len(msgs), 30*time.Second) {
		k := m.Metadata.Get(bus.MetadataPartitionKey)
		seq, _ := strconv.Atoi(string(m.Payload))
		if prev, ok := last[k]; ok && seq != prev+1 {
			t.Fatalf("key %s: got seq %d after %d", k, seq, prev)
		}
		last[k] = seq
	}
}

// TestKafkaWatermarkCommit: with a pipelined window, acking everything but
// one message commits only up to that message; the next member of the
// group starts exactly there.
func TestKafkaWatermarkCommit(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	msgs := newMessages(10, strconv.Itoa)
	if err := pub.Publish(topic, msgs...); err != nil {
		t.Fatal(err)
	}
	group := uniqueName(t, "g")
	window := func(c *kafkabus.SubscriberConfig) {
		c.MaxInFlightPerPartition = 10
		c.DrainTimeout = 500 * time.Millisecond
	}
	sub := newKafkaSubscriber(t, env, group, window)
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	var held *message.Message
	for i := range 10 {
		select {
		case m := <-ch:
			if m.UUID != msgs[i].UUID {
				t.Fatalf("message %d: got %s, want %s", i, m.UUID, msgs[i].UUID)
			}
			if i == 3 {
				held = m // never acked
				continue
			}
			m.Ack()
		case <-time.After(20 * time.Second):
			t.Fatalf("window of 10 did not hand out message %d before acks", i)
		}
	}
	waitCommitted(t, env, group, topic, 3)
	if err := sub.Close(); err != nil {
		t.Fatal(err)
	}
	if held.Context().Err() == nil {
		t.Error("context of the un-acked message not cancelled after release")
	}
	waitCommitted(t, env, group, topic, 3) // Close did not commit past it either

	sub2 := newKafkaSubscriber(t, env, group, nil)
	ch2, err := sub2.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	got := receive(t, ch2, 7, 20*time.Second)
	for i, m := range got {
		if m.UUID != msgs[3+i].UUID {
			t.Fatalf("after restart message %d is %s, want %s (offset %d)", i, m.UUID, msgs[3+i].UUID, 3+i)
		}
	}
}

// waitCommitted polls the group's committed offset of partition 0 until it
// equals want; it fails if it ever exceeds want.
func waitCommitted(t *testing.T, env *testenv.Env, group, topic string, want int64) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 5 * time.Second}
	poll.Eventually(t, 10*time.Second, 100*time.Millisecond, func() error {
		resp, err := client.OffsetFetch(t.Context(), &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: {0}}})
		if err != nil {
			return err
		}
		if len(resp.Topics[topic]) != 1 {
			return fmt.Errorf("offset fetch answered %d partitions of %s", len(resp.Topics[topic]), topic)
		}
		got := resp.Topics[topic][0].CommittedOffset
		if got > want {
			t.Fatalf("committed offset %d passes un-acked offset %d", got, want)
		}
		if got != want {
			return fmt.Errorf("committed offset is %d, want %d", got, want)
		}
		return nil
	})
}

// TestKafkaRebalanceLosesNothing: a second member joins mid-stream and the
// first leaves; every message is delivered at least once.
func TestKafkaRebalanceLosesNothing(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 6)
	pub := newKafkaPublisher(t, env)
	group := uniqueName(t, "g")
	const total = 900
	msgs := newMessages(total, strconv.Itoa)

	var mu sync.Mutex
	seen := map[string]int{}
	consume := func(ch <-chan *message.Message, slow time.Duration) {
		for m := range ch {
			time.Sleep(slow)
			mu.Lock()
			seen[m.UUID]++
			mu.Unlock()
			m.Ack()
		}
	}
	count := func() int { mu.Lock(); defer mu.Unlock(); return len(seen) }
	waitSeen := func(n int, timeout time.Duration) {
		t.Helper()
		poll.Eventually(t, timeout, 20*time.Millisecond, func() error {
			if got := count(); got < n {
				return fmt.Errorf("%d of %d messages delivered", got, n)
			}
			return nil
		})
	}

	subA := newKafkaSubscriber(t, env, group, nil)
	chA, err := subA.Subscribe(testContext(t, 2*time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	go consume(chA, time.Millisecond)
	if err := pub.Publish(topic, msgs[:300]...); err != nil {
		t.Fatal(err)
	}
	waitSeen(100, 30*time.Second)

	subB := newKafkaSubscriber(t, env, group, nil) // rebalance: A gives up partitions
	chB, err := subB.Subscribe(testContext(t, 2*time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	go consume(chB, time.Millisecond)
	if err := pub.Publish(topic, msgs[300:600]...); err != nil {
		t.Fatal(err)
	}
	waitSeen(450, 30*time.Second)

	if err := subA.Close(); err != nil { // rebalance: B takes everything
		t.Fatal(err)
	}
	if err := pub.Publish(topic, msgs[600:]...); err != nil {
		t.Fatal(err)
	}
	waitSeen(total, 60*time.Second)

	mu.Lock()
	defer mu.Unlock()
	dups := 0
	for _, n := range seen {
		dups += n - 1
	}
	t.Logf("%d messages, %d duplicate deliveries across two rebalances", total, dups)
	for _, m := range msgs {
		if seen[m.UUID] == 0 {
			t.Errorf("message %s lost", m.UUID)
		}
	}
}

// TestKafkaStartLatest: a new group starting at latest skips old messages
// and gets new ones.
func TestKafkaStartLatest(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	if err := pub.Publish(topic, newMessages(5, strconv.Itoa)...); err != nil {
		t.Fatal(err)
	}
	group := uniqueName(t, "g")
	sub := newKafkaSubscriber(t, env, group, func(c *kafkabus.SubscriberConfig) { c.StartFrom, c.AllowLatest = kafkabus.StartLatest, true })
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	// The resolved start is committed at once: wait for it, so the publish
	// below is after it.
	waitCommitted(t, env, group, topic, 5)
	fresh := newMessages(1, func(int) string { return "new" })
	if err := pub.Publish(topic, fresh...); err != nil {
		t.Fatal(err)
	}
	if got := receive(t, ch, 1, 20*time.Second); got[0].UUID != fresh[0].UUID {
		t.Fatalf("got %s (payload %q), want the message published after subscribing", got[0].UUID, got[0].Payload)
	}
}

func TestKafkaEnsureTopicsIdempotent(t *testing.T) {
	env := testenv.Get(t)
	ctx := testContext(t, time.Minute)
	spec := []kafkabus.TopicSpec{{Name: uniqueName(t, "prov"), Partitions: 2, ReplicationFactor: 1}}
	for range 2 {
		if err := kafkabus.EnsureTopics(ctx, env.KafkaBrokers, spec); err != nil {
			t.Fatal(err)
		}
	}
	spec[0].Partitions = 4
	if err := kafkabus.EnsureTopics(ctx, env.KafkaBrokers, spec); !errors.Is(err, kafkabus.ErrTooFewPartitions) {
		t.Fatalf("growing without WithAddPartitions: err = %v, want ErrTooFewPartitions", err)
	}
	if err := kafkabus.EnsureTopics(ctx, env.KafkaBrokers, spec, kafkabus.WithAddPartitions()); err != nil {
		t.Fatal(err)
	}
	if err := kafkabus.EnsureTopics(ctx, env.KafkaBrokers, spec); err != nil {
		t.Fatalf("after growing: %v", err)
	}
}

// TestKafkaPublishHonoursMessageContext: Watermill's Publish has no ctx;
// a message whose context is done is not published and the call says so.
func TestKafkaPublishHonoursMessageContext(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	msg := newMessages(1, func(int) string { return "late" })[0]
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	msg.SetContext(ctx)
	start := time.Now()
	if err := pub.Publish(topic, msg); !errors.Is(err, context.Canceled) {
		t.Fatalf("Publish with a cancelled message context = %v, want context.Canceled", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Publish took %s to notice the cancelled context", d)
	}
	// The same message with a live context goes through.
	msg.SetContext(context.Background())
	if err := pub.Publish(topic, msg); err != nil {
		t.Fatal(err)
	}
}

// TestKafkaStartLatestFixedBySubscribe: with "latest", what is published
// right after Subscribe returns is delivered. The start used to be
// resolved only once the group had joined (seconds later on a fresh
// broker), so those first messages were skipped — make demo lost its
// first seconds of telemetry on a fresh machine that way.
func TestKafkaStartLatestFixedBySubscribe(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 3)
	pub := newKafkaPublisher(t, env)
	if err := pub.Publish(topic, newMessages(5, strconv.Itoa)...); err != nil {
		t.Fatal(err)
	}
	sub := newKafkaSubscriber(t, env, uniqueName(t, "g"), func(c *kafkabus.SubscriberConfig) { c.StartFrom, c.AllowLatest = kafkabus.StartLatest, true })
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	fresh := newMessages(20, func(i int) string { return "new-" + strconv.Itoa(i) })
	for _, m := range fresh {
		m.Metadata.Set(bus.MetadataPartitionKey, m.UUID) // spread over the partitions
		if err := pub.Publish(topic, m); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	for _, m := range receive(t, ch, len(fresh), 30*time.Second) {
		got[m.UUID] = true
	}
	for _, m := range fresh {
		if !got[m.UUID] {
			t.Errorf("message %s published after Subscribe returned was skipped", m.UUID)
		}
	}
}
