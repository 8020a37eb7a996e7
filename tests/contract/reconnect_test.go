package contract

import (
	"context"
	"math/rand/v2"
	"os"
	"os/exec"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/subscriber"
	"github.com/ThreeDotsLabs/watermill/pubsub/tests"

	"github.com/tributary-io/tributary/infra/poll"
)

// testReconnect is Watermill's TestReconnect (pubsub/tests v1.5.1) with the
// same load and the same restart points, run by us because the original
// has a data race of its own: a goroutine appends to publishedMessages
// (test_pubsub.go:1086) while the test goroutine reads it (:1120) with no
// synchronisation, so -race fails the test whenever the detector sees it
// (it did on JetStream). Here the published list is guarded and the
// publishers and restarts are waited for before anything is asserted.
//
// Like the original it runs restart (Features.RestartServiceCommand) as a
// separate process after 1/3 and 1/2 of the messages were handed to 100
// publishers, each retrying until its publish succeeds, and requires every
// published message at the subscriber (duplicates allowed). Unlike the
// original, a publisher gives up after publishFor, so a broker that never
// comes back fails the test instead of hanging it.
func testReconnect(t *testing.T, restart []string, newPubSub tests.PubSubConstructor, topic string) {
	const total, publishers = 10000, 100
	const publishFor = 90 * time.Second // past the 60s receive bound below
	pub, sub := newPubSub(t)
	if init, ok := sub.(message.SubscribeInitializer); ok {
		if err := init.SubscribeInitialize(topic); err != nil {
			t.Fatal(err)
		}
	}
	msgs, err := sub.Subscribe(context.Background(), topic)
	if err != nil {
		t.Fatal(err)
	}

	var restarts sync.WaitGroup
	tokens := make(chan struct{})
	go func() {
		defer close(tokens)
		for i := range total {
			tokens <- struct{}{}
			if i == total/3 || i == total/2 {
				restarts.Add(1)
				go func() {
					defer restarts.Done()
					cmd := exec.Command(restart[0], restart[1:]...)
					cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
					if err := cmd.Run(); err != nil {
						t.Errorf("restart command %v: %v", restart, err)
					}
				}()
			}
		}
	}()

	publishCtx, cancelPublish := context.WithTimeout(t.Context(), publishFor)
	defer cancelPublish()
	var mu sync.Mutex
	var published message.Messages
	var gaveUp []error
	var publishing sync.WaitGroup
	for range publishers {
		publishing.Add(1)
		go func() {
			defer publishing.Done()
			for range tokens {
				msg := message.NewMessage(watermill.NewUUID(), []byte("x"))
				err := poll.Until(publishCtx, 500*time.Millisecond, func(context.Context) (bool, error) {
					if rand.IntN(10) == 0 { // the original's jitter
						time.Sleep(500 * time.Millisecond)
					}
					err := pub.Publish(topic, msg)
					return err == nil, err
				})
				mu.Lock()
				if err != nil {
					gaveUp = append(gaveUp, err)
				} else {
					published = append(published, msg)
				}
				mu.Unlock()
			}
		}()
	}

	// The original's bound: 4 × its 15s default timeout.
	received, all := subscriber.BulkReadWithDeduplication(msgs, total, 60*time.Second)
	publishing.Wait()
	restarts.Wait()
	if len(gaveUp) > 0 {
		t.Errorf("%d of %d messages never published: %v", len(gaveUp), total, gaveUp[0])
	}
	if !all {
		t.Errorf("not all messages received: %d of %d", len(received), total)
	}
	mu.Lock()
	tests.AssertAllMessagesReceived(t, published, received)
	mu.Unlock()
	if err := pub.Close(); err != nil {
		t.Error(err)
	}
	if err := sub.Close(); err != nil {
		t.Error(err)
	}
}
