package contract

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/tests/testenv"
)

// The bounded terminal path of issue 11, item 3 rests on these transport
// promises: each delivery says which it is, a Terminate turns the ack
// into a JetStream Term, and a message too large for the broker is
// refused with bus.ErrRefused rather than a retriable error.

// TestJetStreamDeliveryAttemptAndTerm: the server's delivery count reaches
// the handler, and a terminated message is Termed (the server's
// MSG_TERMINATED advisory fires) and never delivered again.
func TestJetStreamDeliveryAttemptAndTerm(t *testing.T) {
	env := testenv.Get(t)
	nc := connectNATS(t, env)
	js := newJS(t, env)
	stream, prefix := jsStream(t, js)
	advisories, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED." + stream + ".>")
	if err != nil {
		t.Fatal(err)
	}
	pub := newJSPublisher(t, js)
	msgs := newMessages(1, strconv.Itoa)
	if err := pub.Publish(prefix+".term", msgs...); err != nil {
		t.Fatal(err)
	}
	sub := newJSSubscriber(t, js, "term", nil)
	ch, err := sub.Subscribe(testContext(t, 30*time.Second), prefix+".term")
	if err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		m := next(t, ch, 10*time.Second)
		if got := bus.DeliveryAttempt(m.Context()); got != want {
			t.Fatalf("delivery %d: DeliveryAttempt = %d", want, got)
		}
		// The only message of a fresh stream: sequence 1, every delivery.
		if key, seq, ok := bus.Position(m.Context()); !ok || key != stream || seq != 1 {
			t.Fatalf("delivery %d: Position = %q %d %v, want %q 1", want, key, seq, ok, stream)
		}
		if want < 3 {
			m.Nack()
			continue
		}
		if !bus.Terminate(m.Context()) {
			t.Fatal("Terminate refused on a JetStream message context")
		}
		m.Ack()
	}
	adv, err := advisories.NextMsg(5 * time.Second)
	if err != nil {
		t.Fatalf("no MSG_TERMINATED advisory: the ack was not a Term: %v", err)
	}
	if !strings.Contains(string(adv.Data), "stored in dead_letters directly") {
		t.Errorf("advisory %s lacks the reason", adv.Data)
	}
	select {
	case m := <-ch:
		t.Fatalf("terminated message %s delivered again", m.UUID)
	case <-time.After(500 * time.Millisecond):
	}
}

func TestJetStreamPublishTooLargeIsRefused(t *testing.T) {
	env := testenv.Get(t)
	nc := connectNATS(t, env)
	js := newJS(t, env)
	_, prefix := jsStream(t, js)
	pub := newJSPublisher(t, js)
	big := message.NewMessage("big", make([]byte, nc.MaxPayload()+1))
	if err := pub.Publish(prefix+".big", big); !errors.Is(err, bus.ErrRefused) {
		t.Fatalf("publish of %d bytes: err = %v, want bus.ErrRefused", len(big.Payload), err)
	}
	if err := pub.Publish(prefix+".small", newMessages(1, strconv.Itoa)...); err != nil || errors.Is(err, bus.ErrRefused) {
		t.Fatalf("small publish after a refused one: %v", err)
	}
}

// TestKafkaDeliveryAttempt: Kafka keeps no count, the subscriber does.
func TestKafkaDeliveryAttempt(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	if err := pub.Publish(topic, newMessages(1, strconv.Itoa)...); err != nil {
		t.Fatal(err)
	}
	sub := newKafkaSubscriber(t, env, uniqueName(t, "g"), nil)
	ch, err := sub.Subscribe(testContext(t, time.Minute), topic)
	if err != nil {
		t.Fatal(err)
	}
	for want := 1; want <= 3; want++ {
		m := next(t, ch, 30*time.Second)
		if got := bus.DeliveryAttempt(m.Context()); got != want {
			t.Fatalf("delivery %d: DeliveryAttempt = %d", want, got)
		}
		// The only record of a fresh one-partition topic: offset 0.
		if key, seq, ok := bus.Position(m.Context()); !ok || key != topic+"-0" || seq != 0 {
			t.Fatalf("delivery %d: Position = %q %d %v, want %q 0", want, key, seq, ok, topic+"-0")
		}
		if want < 3 {
			m.Nack()
			continue
		}
		if !bus.Terminate(m.Context()) {
			t.Fatal("Terminate refused on a Kafka message context")
		}
		m.Ack()
	}
}

// A record over the client's 1 MiB BatchBytes: refused before sending.
func TestKafkaPublishTooLargeIsRefused(t *testing.T) {
	env := testenv.Get(t)
	topic := kafkaTopic(t, env, 1)
	pub := newKafkaPublisher(t, env)
	big := message.NewMessage("big", make([]byte, 2<<20))
	if err := pub.Publish(topic, big); !errors.Is(err, bus.ErrRefused) {
		t.Fatalf("publish of %d bytes: err = %v, want bus.ErrRefused", len(big.Payload), err)
	}
}

func newJSPublisher(t *testing.T, js jetstream.JetStream) *natsbus.Publisher {
	t.Helper()
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pub.Close() })
	return pub
}

// next returns the next message without acking it (receive acks).
func next(t *testing.T, ch <-chan *message.Message, timeout time.Duration) *message.Message {
	t.Helper()
	select {
	case m, ok := <-ch:
		if !ok {
			t.Fatal("channel closed")
		}
		return m
	case <-time.After(timeout):
		t.Fatalf("no message within %s", timeout)
		return nil
	}
}
