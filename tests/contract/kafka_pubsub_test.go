package contract

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/tests/testenv"
)

// suitePartitions is the partition count of the universal suite's topics:
// more than one, so rebalances and partition concurrency are exercised.
const suitePartitions = 4

// kafkaFeatures are what the Kafka adapter really guarantees.
func kafkaFeatures() tests.Features {
	return tests.Features{
		ConsumerGroups: true,
		// Per-partition order with MaxInFlightPerPartition=1. The suite checks
		// order per payload value, so the suite's KeyFunc keys by payload: Kafka
		// orders per key, not per topic.
		GuaranteedOrder:     true,
		ExactlyOnceDelivery: false, // at-least-once; consumers dedup by event id
		Persistent:          true,
		// All subscribers of a test share one group, so a new one continues
		// where the group is rather than rereading the topic.
		NewSubscriberReceivesOldMessages: false,
		// RESTART HOOK: nil on purpose, so the suite's own TestReconnect
		// skips: it races under -race (see testReconnect). The Reconnect
		// subtest runs the race-free port with a real restart command.
		RestartServiceCommand: nil,
		GenerateTopicFunc: func(tctx tests.TestContext) string {
			return "contract-" + string(tctx.TestID)
		},
	}
}

// keyByPayload makes the suite's per-payload order checks meaningful on a
// partitioned topic (see kafkaFeatures' GuaranteedOrder).
func keyByPayload(_ string, msg *message.Message) ([]byte, error) {
	return append([]byte(nil), msg.Payload...), nil
}

// TestKafkaOnPrivateBroker runs what restarts or kills Kafka, on a stack of
// its own (the shared servers serve other tests meanwhile): Watermill's
// universal suite, its reconnect test with a real broker restart, its
// stress variant, and our SIGKILL-mid-stream test.
func TestKafkaOnPrivateBroker(t *testing.T) {
	env := testenv.Private(t)
	servers := env.ServersOrFail(t)
	constructor := func(t *testing.T) (message.Publisher, message.Subscriber) {
		return newKafkaSuitePubSub(t, env, groupFor(t, "contract"))
	}
	groupConstructor := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		return newKafkaSuitePubSub(t, env, group)
	}

	t.Run("UniversalPubSub", func(t *testing.T) {
		tests.TestPubSub(t, kafkaFeatures(), constructor, groupConstructor)
	})
	t.Run("Reconnect", func(t *testing.T) {
		restarter := newBrokerRestarter(t, servers, testenv.Kafka)
		testReconnect(t, restarter.Command(t), constructor, uniqueName(t, "contract-reconnect"))
		if n := restarter.Restarts(); n != 2 {
			t.Errorf("Kafka restarted %d times, want 2", n)
		}
	})
	t.Run("UniversalPubSubStress", func(t *testing.T) {
		runStress(t, kafkaFeatures(), constructor, groupConstructor)
	})
	t.Run("KillMidStream", func(t *testing.T) {
		topic := kafkaTopic(t, env, 4)
		pub := newKafkaPublisher(t, env)
		sub := newKafkaSubscriber(t, env, uniqueName(t, "g"), nil)
		ch, err := sub.Subscribe(testContext(t, 5*time.Minute), topic)
		if err != nil {
			t.Fatal(err)
		}
		killMidStream{
			servers: servers, server: testenv.Kafka,
			pub: pub, topic: topic, ch: ch,
			total: 3000, workers: 8,
			attempt: 5 * time.Second, down: 2 * time.Second,
			publishFor: 2 * time.Minute, receiveFor: 90 * time.Second,
		}.run(t)
	})
}

func newKafkaSuitePubSub(t *testing.T, env *testenv.Env, group string) (message.Publisher, message.Subscriber) {
	t.Helper()
	pub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{
		Brokers: env.KafkaBrokers,
		KeyFunc: keyByPayload,
		Logger:  testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := kafkabus.NewSubscriber(kafkabus.SubscriberConfig{
		Brokers: env.KafkaBrokers,
		GroupID: group,
		// The suite nacks hundreds of times; a short pause keeps it quick.
		NackDelay: 10 * time.Millisecond,
		// Notice rebalances sooner: the suite starts and stops many members.
		HeartbeatInterval: 500 * time.Millisecond,
		SessionTimeout:    10 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		DrainTimeout:      2 * time.Second,
		Logger:            testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pub, &kafkaInitializer{Subscriber: sub, brokers: env.KafkaBrokers}
}

// kafkaInitializer provisions the suite's topics through EnsureTopics
// (the suite calls SubscribeInitialize before it publishes).
type kafkaInitializer struct {
	*kafkabus.Subscriber
	brokers []string
}

func (k *kafkaInitializer) SubscribeInitialize(topic string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return kafkabus.EnsureTopics(ctx, k.brokers, []kafkabus.TopicSpec{{Name: topic, Partitions: suitePartitions, ReplicationFactor: 1}})
}
