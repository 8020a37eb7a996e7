package contract

import (
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/natsbus"
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
		// RESTART HOOK: nil on purpose, so the suite's own TestReconnect
		// skips: it races under -race (see testReconnect). The Reconnect
		// subtest runs the race-free port with a real restart command.
		RestartServiceCommand: nil,
		GenerateTopicFunc: func(tctx tests.TestContext) string {
			return subjectPrefix + "." + string(tctx.TestID)
		},
	}
}

// TestJetStreamOnPrivateServer runs what restarts or kills nats-server, on
// a stack of its own (the shared servers serve other tests meanwhile):
// Watermill's universal suite, its reconnect test with a real server
// restart, its stress variant, and our SIGKILL-mid-stream test.
func TestJetStreamOnPrivateServer(t *testing.T) {
	env := testenv.Private(t)
	servers := env.ServersOrFail(t)
	js, err := jetstream.New(connectNATS(t, env))
	if err != nil {
		t.Fatal(err)
	}
	// One file-backed stream for the suites (it must survive restarts);
	// each test's topic is a subject under it.
	run := strings.ToLower(watermill.NewShortUUID())
	stream, prefix := "CONTRACT_"+run, "contract."+run
	ctx := testContext(t, 30*time.Second)
	if err := natsbus.EnsureStream(ctx, js, natsbus.StreamSpec{Name: stream, Subjects: []string{prefix + ".>"}, MaxAge: time.Hour}); err != nil {
		t.Fatal(err)
	}
	constructor := func(t *testing.T) (message.Publisher, message.Subscriber) {
		return newJetStreamSuitePubSub(t, env, groupFor(t, "contract"))
	}
	groupConstructor := func(t *testing.T, group string) (message.Publisher, message.Subscriber) {
		return newJetStreamSuitePubSub(t, env, group)
	}

	t.Run("UniversalPubSub", func(t *testing.T) {
		tests.TestPubSub(t, jetStreamFeatures(prefix+".suite"), constructor, groupConstructor)
	})
	t.Run("Reconnect", func(t *testing.T) {
		restarter := newBrokerRestarter(t, servers, testenv.NATS)
		testReconnect(t, restarter.Command(t), constructor, prefix+".reconnect")
		if n := restarter.Restarts(); n != 2 {
			t.Errorf("nats-server restarted %d times, want 2", n)
		}
	})
	t.Run("UniversalPubSubStress", func(t *testing.T) {
		runStress(t, jetStreamFeatures(prefix+".stress"), constructor, groupConstructor)
	})
	t.Run("KillMidStream", func(t *testing.T) {
		js, err := jetstream.New(connectNATS(t, env))
		if err != nil {
			t.Fatal(err)
		}
		pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{Logger: testLogger()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = pub.Close() })
		// A short AckWait: a message the server sent just before it died
		// and the client never got comes back after AckWait.
		sub := newJSSubscriber(t, js, uniqueName(t, "g"), func(c *natsbus.SubscriberConfig) { c.AckWait = 3 * time.Second })
		subject := prefix + ".kill"
		ch, err := sub.Subscribe(testContext(t, 5*time.Minute), subject)
		if err != nil {
			t.Fatal(err)
		}
		killMidStream{
			servers: servers, server: testenv.NATS,
			pub: pub, topic: subject, ch: ch,
			total: 3000, workers: 8,
			attempt: 5 * time.Second, down: 2 * time.Second,
			publishFor: 2 * time.Minute, receiveFor: 90 * time.Second,
		}.run(t)
	})
}

func connectNATS(t testing.TB, env *testenv.Env) *nats.Conn {
	t.Helper()
	// Reconnect for as long as the test runs, and quickly: tests restart
	// and kill the server (the default gives up after 60 tries, 2s apart).
	nc, err := nats.Connect(env.NATSURL, nats.Name(t.Name()), nats.MaxReconnects(-1), nats.ReconnectWait(250*time.Millisecond))
	if err != nil {
		t.Fatalf("connect to NATS at %s: %v", env.NATSURL, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

func newJetStreamSuitePubSub(t *testing.T, env *testenv.Env, group string) (message.Publisher, message.Subscriber) {
	t.Helper()
	js, err := jetstream.New(connectNATS(t, env))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{Logger: testLogger()})
	if err != nil {
		t.Fatal(err)
	}
	sub, err := natsbus.NewSubscriber(js, natsbus.SubscriberConfig{
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
