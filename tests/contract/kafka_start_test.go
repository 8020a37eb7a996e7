package contract

import (
	"bytes"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// logBuffer collects a subscriber's log lines for a test to look at.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// logTo returns a logger writing Info and above to lb.
func logTo(lb *logBuffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(lb, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// writeTo publishes payloads straight into one partition of topic. A
// partition just created may not be known to every broker connection yet:
// retried until it is.
func writeTo(t *testing.T, env *testenv.Env, topic string, partition int, payloads ...string) {
	t.Helper()
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 10 * time.Second}
	poll.Eventually(t, 30*time.Second, 200*time.Millisecond, func() error {
		recs := make([]kafka.Record, len(payloads))
		for i, p := range payloads {
			recs[i] = kafka.Record{Value: kafka.NewBytes([]byte(p))}
		}
		resp, err := client.Produce(t.Context(), &kafka.ProduceRequest{Topic: topic, Partition: partition,
			RequiredAcks: kafka.RequireAll, Records: kafka.NewRecordReader(recs...)})
		if err != nil {
			return err
		}
		return resp.Error
	})
}

// payloadsOf returns the payloads of msgs in arrival order.
func payloadsOf(msgs []*message.Message) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = string(m.Payload)
	}
	return out
}

// TestKafkaOutOfRangeResetsToEarliest: a committed offset the broker no
// longer has (here one past the end, as after a topic was recreated or
// retention deleted what the group had read) restarts at the earliest
// retained record with a warning — also under StartFrom latest, which used
// to reset to the end and skip the records nobody had read.
func TestKafkaOutOfRangeResetsToEarliest(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	want := []string{"r0", "r1", "r2", "r3", "r4"}
	writeTo(t, env, topic, 0, want...)
	group := uniqueName(t, "g")
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...), Timeout: 10 * time.Second}
	resp, err := client.OffsetCommit(testContext(t, 30*time.Second), &kafka.OffsetCommitRequest{GroupID: group, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{topic: {{Partition: 0, Offset: 1000}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := resp.Topics[topic][0].Error; err != nil {
		t.Fatal(err)
	}
	var logs logBuffer
	sub := newKafkaSubscriber(t, env, group, func(c *kafkabus.SubscriberConfig) {
		c.StartFrom, c.AllowLatest, c.Logger = kafkabus.StartLatest, true, logTo(&logs)
	})
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	got := payloadsOf(receive(t, ch, len(want), 30*time.Second))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v, want %v from the earliest offset", got, want)
	}
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "out of range") || !strings.Contains(l, "committed=1000") {
		t.Errorf("no warning about the out-of-range offset 1000 in:\n%s", l)
	}
}

// TestKafkaAddedPartitionStartsAtEarliest: a partition added to the topic
// after the group fixed its start (StartFrom latest) is picked up without
// a restart and read from its first record, with an Info line saying the
// group had no committed offset for it. It used to start at its end (and
// was not watched at all), skipping what was written to it.
func TestKafkaAddedPartitionStartsAtEarliest(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	writeTo(t, env, topic, 0, "old-0", "old-1")
	var logs logBuffer
	sub := newKafkaSubscriber(t, env, uniqueName(t, "g"), func(c *kafkabus.SubscriberConfig) {
		c.StartFrom, c.AllowLatest, c.Logger = kafkabus.StartLatest, true, logTo(&logs)
		c.PartitionWatchInterval = 500 * time.Millisecond
	})
	ch, err := sub.Subscribe(testContext(t, 2*time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	if l := logs.String(); !strings.Contains(l, "starting at the end") || !strings.Contains(l, "offsets=map[0:2]") {
		t.Errorf("Subscribe did not log the pinned end offsets:\n%s", l)
	}
	writeTo(t, env, topic, 0, "new-0")
	if got := payloadsOf(receive(t, ch, 1, 30*time.Second)); got[0] != "new-0" {
		t.Fatalf("got %v, want new-0: the pin skips what was there before Subscribe", got)
	}
	if err := kafkabus.EnsureTopics(testContext(t, 30*time.Second), env.KafkaBrokers,
		[]kafkabus.TopicSpec{{Name: topic, Partitions: 2, ReplicationFactor: 1}}, kafkabus.WithAddPartitions()); err != nil {
		t.Fatal(err)
	}
	var want []string
	for i := range 5 {
		want = append(want, "added-"+strconv.Itoa(i))
	}
	// Written before the group can have noticed the partition: starting at
	// its end would skip all of them.
	writeTo(t, env, topic, 1, want...)
	got := payloadsOf(receive(t, ch, len(want), 60*time.Second))
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("got %v from the added partition, want %v", got, want)
	}
	if l := logs.String(); !strings.Contains(l, "no committed offset for the partition") || !strings.Contains(l, "partition=1") {
		t.Errorf("no Info line about partition 1 having no committed offset:\n%s", l)
	}
}
