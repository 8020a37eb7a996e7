package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/natsbus"
)

// Settings both JetStream implementations share.
const (
	jsFetchBatch    = 100  // = our default FetchBatch
	jsMaxAckPending = 1000 // = our default MaxAckPending
	jsMaxPending    = 256  // async publishes in the air per slice, = our default MaxPending
	jsAckWait       = 30 * time.Second
)

// jsImpls builds the JetStream implementations; each opens its own
// connection, so neither shares a socket with the other.
func jsImpls(url, stream string, payload []byte) []impl {
	return []impl{
		{name: ImplTributary, publisher: tributaryJSPublisher(url, payload), consume: tributaryJSConsume(url, stream)},
		{name: ImplNATSGo, publisher: natsGoPublisher(url, payload), consume: natsGoConsume(url, stream)},
	}
}

func connectJS(url string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := nats.Connect(url, nats.Name("bench-transport"))
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

func tributaryJSPublisher(url string, payload []byte) func(context.Context) (func(context.Context, string, int) error, func() error, error) {
	return func(context.Context) (func(context.Context, string, int) error, func() error, error) {
		nc, js, err := connectJS(url)
		if err != nil {
			return nil, nil, err
		}
		pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{MaxPending: jsMaxPending})
		if err != nil {
			nc.Close()
			return nil, nil, err
		}
		publish := func(ctx context.Context, subject string, n int) error {
			return pub.PublishContext(ctx, subject, newWatermillMessages(n, payload)...)
		}
		closeFn := func() error {
			err := pub.Close()
			nc.Close()
			return err
		}
		return publish, closeFn, nil
	}
}

func tributaryJSConsume(url, stream string) consumeFunc {
	return func(ctx context.Context, subject, group string, n int) (consumeTimes, error) {
		nc, js, err := connectJS(url)
		if err != nil {
			return consumeTimes{}, err
		}
		defer nc.Close()
		sub, err := natsbus.NewSubscriber(js, natsbus.SubscriberConfig{
			Durable: group, Stream: stream, AckWait: jsAckWait,
			MaxAckPending: jsMaxAckPending, FetchBatch: jsFetchBatch,
		})
		if err != nil {
			return consumeTimes{}, err
		}
		defer sub.Close()
		ts := consumeTimes{subscribed: time.Now()}
		ch, err := sub.Subscribe(ctx, subject)
		if err != nil {
			return ts, err
		}
		return readWatermill(ctx, ch, n, ts)
	}
}

// rawJSMsg is the message our publisher would build: payload, event id
// header and Nats-Msg-Id, so the server does the same dedup work.
func rawJSMsg(subject string, payload []byte) *nats.Msg {
	id := watermill.NewUUID()
	m := nats.NewMsg(subject)
	m.Data = payload
	m.Header.Set(bus.HeaderEventID, id)
	m.Header.Set(nats.MsgIdHdr, id+"@"+subject)
	return m
}

func natsGoPublisher(url string, payload []byte) func(context.Context) (func(context.Context, string, int) error, func() error, error) {
	return func(context.Context) (func(context.Context, string, int) error, func() error, error) {
		nc, js, err := connectJS(url)
		if err != nil {
			return nil, nil, err
		}
		publish := func(ctx context.Context, subject string, n int) error {
			if n == 1 {
				_, err := js.PublishMsg(ctx, rawJSMsg(subject, payload))
				return err
			}
			for start := 0; start < n; start += jsMaxPending {
				futures := make([]jetstream.PubAckFuture, 0, min(jsMaxPending, n-start))
				for range min(jsMaxPending, n-start) {
					f, err := js.PublishMsgAsync(rawJSMsg(subject, payload))
					if err != nil {
						return err
					}
					futures = append(futures, f)
				}
				for _, f := range futures {
					select {
					case <-f.Ok():
					case err := <-f.Err():
						return err
					case <-ctx.Done():
						return ctx.Err()
					}
				}
			}
			return nil
		}
		closeFn := func() error {
			nc.Close()
			return nil
		}
		return publish, closeFn, nil
	}
}

func natsGoConsume(url, stream string) consumeFunc {
	return func(ctx context.Context, subject, group string, n int) (consumeTimes, error) {
		nc, js, err := connectJS(url)
		if err != nil {
			return consumeTimes{}, err
		}
		defer nc.Close()
		ts := consumeTimes{subscribed: time.Now()}
		cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable: group, FilterSubject: subject,
			AckPolicy: jetstream.AckExplicitPolicy, AckWait: jsAckWait,
			MaxAckPending: jsMaxAckPending, MaxDeliver: -1,
			DeliverPolicy: jetstream.DeliverAllPolicy,
		})
		if err != nil {
			return ts, err
		}
		it, err := cons.Messages(jetstream.PullMaxMessages(jsFetchBatch))
		if err != nil {
			return ts, err
		}
		defer it.Stop()
		// Next takes no ctx: stopping the iterator is how a deadline ends it.
		defer context.AfterFunc(ctx, it.Stop)()
		for i := range n {
			m, err := it.Next()
			if err != nil {
				return ts, fmt.Errorf("after %d of %d messages: %w", i, n, err)
			}
			if i == 0 {
				ts.first = time.Now()
			}
			if err := m.Ack(); err != nil {
				return ts, err
			}
		}
		ts.last = time.Now()
		return ts, nil
	}
}
