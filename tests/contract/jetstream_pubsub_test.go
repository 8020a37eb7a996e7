package contract

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus/jetstream"
	"github.com/tributary-io/tributary/tests/testenv"
)

// jetStreamFeatures are what the JetStream adapter really guarantees.
func jetStreamFeatures(subjectPrefix string) tests.Features {
	return tests.Features{
		ConsumerGroups: true,
		// Instances of a group share one consumer with MaxAckPending > 1
		// and naks are redelivered later: no order guarantee.
		GuaranteedOrder:     false,
		ExactlyOnceDelivery: false, // at-least-once; consumers dedup by event id
		Persistent:          true,
		// A test's subscribers share one durable consumer.
		NewSubscriberReceivesOldMessages: false,
		// RESTART HOOK: the lead wires server restarts here once testenv
		// has ServerControl (Servers.Restart(testenv.NATS)).
		RestartServiceCommand: nil,
		GenerateTopicFunc: func(tctx tests.TestContext) string {
			return subjectPrefix + "." + string(tctx.TestID)
		},
	}
}

func TestJetStreamUniversalPubSub(t *testing.T) {
	env := testenv.Get(t)
	nc := connectNATS(t, env)
	js, err := natsjs.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	// One stream for the whole suite; each test's topic is a subject under it.
	run := strings.ToLower(watermill.NewShortUUID())
	stream, prefix := "CONTRACT_"+run, "contract."+run
	ctx := testContext(t, 30*time.Second)
	if err := jetstream.EnsureStream(ctx, js, jetstream.StreamSpec{Name: stream, Subjects: []string{prefix + ".>"}, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(context.Background(), stream) })

	tests.TestPubSub(t, jetStreamFeatures(prefix),
		func(t *testing.T) (message.Publisher, message.Subscriber) {
			return newJetStreamSuitePubSub(t, env, groupFor(t, "contract"))
		},
		func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
			return newJetStreamSuitePubSub(t, env, group)
		},
	)
}

func connectNATS(t testing.TB, env *testenv.Env) *nats.Conn {
	t.Helper()
	nc, err := nats.Connect(env.NATSURL, nats.Name(t.Name()))
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", env.NATSURL, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func newJetStreamSuitePubSub(t *testing.T, env *testenv.Env, group string) (message.Publisher, message.Subscriber) {
	t.Helper()
	js, err := natsjs.New(connectNATS(t, env))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := jetstream.NewPublisher(js, jetstream.PublisherConfig{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := jetstream.NewSubscriber(js, jetstream.SubscriberConfig{
		Durable: group,
		// The suite nacks hundreds of times; keep redelivery quick.
		NakDelay:     10 * time.Millisecond,
		MaxNakDelay:  50 * time.Millisecond,
		DrainTimeout: 2 * time.Second,
		Logger:       testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return pub, sub
}
