package contract

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// ctxPublisher is what both adapters offer beyond message.Publisher: a
// publish bounded by the caller, so one attempt against a dead broker ends
// and the caller can retry.
type ctxPublisher interface {
	PublishContext(ctx context.Context, topic string, msgs ...*message.Message) error
}

// killMidStream is one run of the crash test: a stream of publishes, the
// broker SIGKILLed while it flows and started again, every acked message
// checked at a consumer group.
type killMidStream struct {
	servers testenv.ServerControl
	server  string // testenv.Kafka or testenv.NATS
	pub     ctxPublisher
	topic   string
	// ch is a consumer group's channel, subscribed before the first publish.
	ch <-chan *message.Message

	total   int           // messages in the stream
	workers int           // concurrent publishers, each one message at a time
	attempt time.Duration // bound of one publish attempt
	down    time.Duration // how long the broker stays dead
	// publishFor and receiveFor bound the two phases: the test fails, never
	// hangs, if a transport does not recover.
	publishFor, receiveFor time.Duration
}

// killReport is what a run observed.
type killReport struct {
	acked, failedAttempts, gaveUp int
	killedAt                      int // acked publishes when the broker died
	downFor                       time.Duration
	delivered, duplicates         int // distinct acked messages received; extra deliveries
	unackedDelivered              int // received although their publish never got an ack
}

func (k killMidStream) run(t *testing.T) killReport {
	t.Helper()
	var rep killReport

	// Consumer: count deliveries per event id and ack each one.
	var mu sync.Mutex
	deliveries := map[string]int{}
	consumed := make(chan struct{})
	go func() {
		defer close(consumed)
		for m := range k.ch {
			mu.Lock()
			deliveries[m.UUID]++
			mu.Unlock()
			m.Ack()
		}
	}()

	// Publishers: each message is retried until acked or publishFor runs out.
	msgs := newMessages(k.total, strconv.Itoa)
	acked := make([]bool, k.total)
	jobs := make(chan int)
	killAt := k.total / 3
	kill := make(chan struct{})
	var killOnce sync.Once
	var pubWG sync.WaitGroup
	publishCtx, cancelPublish := context.WithTimeout(context.Background(), k.publishFor)
	defer cancelPublish()
	for range k.workers {
		pubWG.Add(1)
		go func() {
			defer pubWG.Done()
			for i := range jobs {
				for publishCtx.Err() == nil {
					ctx, cancel := context.WithTimeout(publishCtx, k.attempt)
					err := k.pub.PublishContext(ctx, k.topic, msgs[i])
					cancel()
					mu.Lock()
					if err == nil {
						acked[i] = true
						rep.acked++
						if rep.acked == killAt {
							killOnce.Do(func() { close(kill) })
						}
					} else {
						rep.failedAttempts++
					}
					mu.Unlock()
					if err == nil {
						break
					}
					time.Sleep(100 * time.Millisecond) // pause between attempts; publishCtx bounds them
				}
			}
		}()
	}

	// Killer: SIGKILL once a third of the stream is acked, then start again.
	killErr := make(chan error, 1)
	go func() {
		select {
		case <-kill:
		case <-publishCtx.Done():
			killErr <- fmt.Errorf("stream never reached %d acked publishes", killAt)
			return
		}
		mu.Lock()
		rep.killedAt = rep.acked
		mu.Unlock()
		began := time.Now()
		if err := k.servers.Kill(k.server); err != nil {
			killErr <- err
			return
		}
		time.Sleep(k.down)
		err := k.servers.Start(k.server)
		rep.downFor = time.Since(began)
		killErr <- err
	}()

	for i := range msgs {
		jobs <- i
	}
	close(jobs)
	pubWG.Wait()
	if err := <-killErr; err != nil {
		t.Fatalf("kill and start %s: %v", k.server, err)
	}

	mu.Lock()
	for i := range acked {
		if !acked[i] {
			rep.gaveUp++
		}
	}
	mu.Unlock()
	if rep.killedAt == 0 || rep.killedAt >= k.total {
		t.Fatalf("the broker was not killed mid-stream (at %d of %d acked)", rep.killedAt, k.total)
	}

	// Every acked message must arrive at least once.
	missing := func() int {
		mu.Lock()
		defer mu.Unlock()
		n := 0
		for i, m := range msgs {
			if acked[i] && deliveries[m.UUID] == 0 {
				n++
			}
		}
		return n
	}
	receiveCtx, cancelReceive := context.WithTimeout(t.Context(), k.receiveFor)
	// Not met in time is reported below, naming the lost messages.
	_ = poll.Until(receiveCtx, 50*time.Millisecond, func(context.Context) (bool, error) { return missing() == 0, nil })
	cancelReceive()
	mu.Lock()
	defer mu.Unlock()
	var lost []string
	for i, m := range msgs {
		n := deliveries[m.UUID]
		switch {
		case acked[i] && n == 0:
			lost = append(lost, m.UUID)
		case acked[i]:
			rep.delivered++
			rep.duplicates += n - 1
		case n > 0:
			rep.unackedDelivered++
			rep.duplicates += n - 1
		}
	}
	t.Logf("kill mid-stream %s: %d messages, %d acked (%d failed attempts, %d gave up); SIGKILL after %d acked, down and back in %s; "+
		"%d acked delivered, %d duplicate deliveries, %d un-acked but delivered",
		k.server, k.total, rep.acked, rep.failedAttempts, rep.gaveUp, rep.killedAt, rep.downFor.Round(time.Millisecond),
		rep.delivered, rep.duplicates, rep.unackedDelivered)
	if len(lost) > 0 {
		t.Errorf("%d acked messages never arrived within %s, e.g. %v", len(lost), k.receiveFor, lost[:min(5, len(lost))])
	}
	if rep.gaveUp > 0 {
		t.Errorf("%d messages never acked within %s: the publisher did not recover after the restart", rep.gaveUp, k.publishFor)
	}
	return rep
}
