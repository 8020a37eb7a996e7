package contract

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// jsStream provisions a fresh stream for one test and returns its subject
// prefix.
func jsStream(t *testing.T, js jetstream.JetStream) (stream, prefix string) {
	t.Helper()
	run := strings.ToLower(watermill.NewShortUUID())
	stream, prefix = "ADAPTER_"+run, "adapter."+run
	if err := natsbus.EnsureStream(testContext(t, 10*time.Second), js, natsbus.StreamSpec{Name: stream, Subjects: []string{prefix + ".>"}}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = js.DeleteStream(testContext(t, 10*time.Second), stream) })
	return stream, prefix
}

func newJS(t *testing.T, env *testenv.Env) jetstream.JetStream {
	t.Helper()
	js, err := jetstream.New(connectNATS(t, env))
	if err != nil {
		t.Fatal(err)
	}
	return js
}

func newJSSubscriber(t *testing.T, js jetstream.JetStream, durable string, tune func(*natsbus.SubscriberConfig)) *natsbus.Subscriber {
	t.Helper()
	cfg := natsbus.SubscriberConfig{Durable: durable, NakDelay: 20 * time.Millisecond, DrainTimeout: time.Second, Logger: testLogger()}
	if tune != nil {
		tune(&cfg)
	}
	sub, err := natsbus.NewSubscriber(js, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Close() })
	return sub
}

// TestJetStreamPublishDedup: a retried publish (same UUID, same subject) is
// stored once; the same event on another subject is kept.
func TestJetStreamPublishDedup(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	stream, prefix := jsStream(t, js)
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	msg := newMessages(1, func(int) string { return "x" })[0]
	for range 3 {
		if err := pub.Publish(prefix+".a", msg); err != nil {
			t.Fatal(err)
		}
	}
	if err := pub.Publish(prefix+".poison", msg); err != nil {
		t.Fatal(err)
	}
	// A slice goes through the async path and is deduplicated too.
	if err := pub.Publish(prefix+".a", msg, msg); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(testContext(t, 5*time.Second), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(testContext(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != 2 {
		t.Fatalf("stream holds %d messages, want 2 (one per subject)", info.State.Msgs)
	}
}

// TestJetStreamConsumerConfig: Durable, AckWait, MaxDeliver and
// MaxAckPending reach the server's consumer.
func TestJetStreamConsumerConfig(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	stream, prefix := jsStream(t, js)
	sub := newJSSubscriber(t, js, "cfgcheck", func(c *natsbus.SubscriberConfig) {
		c.AckWait, c.MaxDeliver, c.MaxAckPending = 7*time.Second, 5, 42
		c.FetchBatch = 10
	})
	if _, err := sub.Subscribe(testContext(t, 10*time.Second), prefix+".cfg"); err != nil {
		t.Fatal(err)
	}
	st, err := js.Stream(testContext(t, 5*time.Second), stream)
	if err != nil {
		t.Fatal(err)
	}
	lister := st.ListConsumers(testContext(t, 5*time.Second))
	var found bool
	for ci := range lister.Info() {
		found = true
		c := ci.Config
		if c.AckPolicy != jetstream.AckExplicitPolicy || c.AckWait != 7*time.Second || c.MaxDeliver != 5 || c.MaxAckPending != 42 || c.FilterSubject != prefix+".cfg" || c.Durable == "" {
			t.Errorf("consumer config %+v", c)
		}
	}
	if !found {
		t.Fatal("no consumer created")
	}
}

// TestJetStreamNackRedelivers: a nacked message comes back (after the Nak
// delay) and an acked one does not.
func TestJetStreamNackRedelivers(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	_, prefix := jsStream(t, js)
	pub, _ := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	defer pub.Close()
	msgs := newMessages(2, strconv.Itoa)
	if err := pub.Publish(prefix+".n", msgs...); err != nil {
		t.Fatal(err)
	}
	sub := newJSSubscriber(t, js, "nack", nil)
	ch, err := sub.Subscribe(testContext(t, 30*time.Second), prefix+".n")
	if err != nil {
		t.Fatal(err)
	}
	deliveries := map[string]int{}
	timeout := time.After(15 * time.Second)
	for deliveries[msgs[0].UUID] < 3 || deliveries[msgs[1].UUID] < 1 {
		select {
		case m := <-ch:
			deliveries[m.UUID]++
			if m.UUID == msgs[0].UUID && deliveries[m.UUID] < 3 {
				m.Nack()
				continue
			}
			m.Ack()
		case <-timeout:
			t.Fatalf("deliveries %v", deliveries)
		}
	}
	select {
	case m := <-ch:
		t.Fatalf("acked message %s delivered again", m.UUID)
	case <-time.After(300 * time.Millisecond):
	}
}

// TestJetStreamGroupSharesWork: two instances of one durable split the
// messages and together see all of them; a second group sees all again.
func TestJetStreamGroupSharesWork(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	_, prefix := jsStream(t, js)
	subject := prefix + ".g"
	pub, _ := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	defer pub.Close()
	msgs := newMessages(400, strconv.Itoa)

	var mu sync.Mutex
	per := map[int]map[string]bool{0: {}, 1: {}}
	for i := range 2 {
		ch, err := newJSSubscriber(t, newJS(t, env), "workers", nil).Subscribe(testContext(t, time.Minute), subject)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			for m := range ch {
				time.Sleep(time.Millisecond) // let the other instance get a share
				mu.Lock()
				per[i][m.UUID] = true
				mu.Unlock()
				m.Ack()
			}
		}()
	}
	if err := pub.Publish(subject, msgs...); err != nil {
		t.Fatal(err)
	}
	union := func() int {
		mu.Lock()
		defer mu.Unlock()
		u := map[string]bool{}
		for _, s := range per {
			for id := range s {
				u[id] = true
			}
		}
		return len(u)
	}
	poll.Eventually(t, 30*time.Second, 20*time.Millisecond, func() error {
		if n := union(); n != len(msgs) {
			return fmt.Errorf("the two instances saw %d of %d messages", n, len(msgs))
		}
		return nil
	})
	mu.Lock()
	if len(per[0]) == 0 || len(per[1]) == 0 {
		t.Errorf("work not shared: %d and %d", len(per[0]), len(per[1]))
	}
	mu.Unlock()

	other, err := newJSSubscriber(t, js, "auditors", nil).Subscribe(testContext(t, time.Minute), subject)
	if err != nil {
		t.Fatal(err)
	}
	receive(t, other, len(msgs), 30*time.Second)
}

// TestJetStreamMetadataAsHeaders: metadata keys travel as NATS headers as-is.
func TestJetStreamMetadataAsHeaders(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	stream, prefix := jsStream(t, js)
	pub, _ := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	defer pub.Close()
	msg := message.NewMessage(watermill.NewUUID(), []byte("p"))
	msg.Metadata.Set("ce_type", "reading")
	if err := pub.Publish(prefix+".h", msg); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(testContext(t, 5*time.Second), stream)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := s.GetLastMsgForSubject(testContext(t, 5*time.Second), prefix+".h")
	if err != nil {
		t.Fatal(err)
	}
	if raw.Header.Get("ce_type") != "reading" || raw.Header.Get(bus.HeaderEventID) != msg.UUID || raw.Header.Get("Nats-Msg-Id") == "" {
		t.Fatalf("headers %v", raw.Header)
	}
}

func TestJetStreamEnsureStreamIdempotent(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	name := "PROV_" + strings.ToLower(watermill.NewShortUUID())
	spec := natsbus.StreamSpec{Name: name, Subjects: []string{strings.ToLower(name) + ".>"}, MaxAge: time.Hour}
	ctx := testContext(t, 10*time.Second)
	t.Cleanup(func() { _ = js.DeleteStream(testContext(t, 5*time.Second), name) })
	for range 2 {
		if err := natsbus.EnsureStream(ctx, js, spec); err != nil {
			t.Fatal(err)
		}
	}
	spec.MaxAge = 2 * time.Hour // an update, not a conflict
	if err := natsbus.EnsureStream(ctx, js, spec); err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	cfg := s.CachedInfo().Config
	if cfg.MaxAge != 2*time.Hour || cfg.Duplicates != 2*time.Minute || cfg.Storage != jetstream.FileStorage {
		t.Fatalf("stream config: max age %s, duplicates %s, storage %s", cfg.MaxAge, cfg.Duplicates, cfg.Storage)
	}
}

// TestJetStreamPublishHonoursMessageContext: Watermill's Publish has no
// ctx; a message whose context is done is not published and the call says
// so, on the single and the batch path.
func TestJetStreamPublishHonoursMessageContext(t *testing.T) {
	env := testenv.Get(t)
	js := newJS(t, env)
	stream, prefix := jsStream(t, js)
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	msgs := newMessages(2, func(int) string { return "late" })
	for _, m := range msgs {
		m.SetContext(ctx)
	}
	if err := pub.Publish(prefix+".a", msgs[0]); !errors.Is(err, context.Canceled) {
		t.Errorf("single Publish with a cancelled message context = %v, want context.Canceled", err)
	}
	if err := pub.Publish(prefix+".a", msgs...); !errors.Is(err, context.Canceled) {
		t.Errorf("batch Publish with a cancelled message context = %v, want context.Canceled", err)
	}
	s, err := js.Stream(testContext(t, 5*time.Second), stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(testContext(t, 5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// The batch path may have sent before it saw the context; the single
	// path must not have.
	if info.State.Msgs > 2 {
		t.Errorf("stream holds %d messages", info.State.Msgs)
	}
}
