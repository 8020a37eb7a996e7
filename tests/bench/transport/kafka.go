package transport

import (
	"context"
	"fmt"
	"time"

	"github.com/IBM/sarama"
	"github.com/ThreeDotsLabs/watermill"
	wmkafka "github.com/ThreeDotsLabs/watermill-kafka/v3/pkg/kafka"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/kafkabus"
)

// Implementation names of the Kafka suite.
const (
	ImplTributary         = "tributary"
	ImplTributaryWindow   = "tributary window=64"
	ImplSarama            = "watermill-kafka (sarama)"
	ImplKafkaGo           = "kafka-go (raw)"
	ImplNATSGo            = "nats.go jetstream (raw)"
	kafkaBatchSize        = 100
	kafkaMaxBytes         = 10 << 20
	kafkaMaxWait          = 500 * time.Millisecond
	kafkaRawCommitEvery   = time.Second // = our default CommitInterval
	saramaProtocolVersion = "3.0.0"
)

func kafkaImpls(brokers []string, payload []byte) []impl {
	return []impl{
		{name: ImplTributary, publisher: tributaryKafkaPublisher(brokers, payload), consume: tributaryKafkaConsume(brokers, 1)},
		{name: ImplTributaryWindow, consume: tributaryKafkaConsume(brokers, 64)},
		{name: ImplSarama, publisher: saramaPublisher(brokers, payload), consume: saramaConsume(brokers)},
		{name: ImplKafkaGo, publisher: kafkaGoPublisher(brokers, payload), consume: kafkaGoConsume(brokers)},
	}
}

func newWatermillMessages(n int, payload []byte) []*message.Message {
	msgs := make([]*message.Message, n)
	for i := range msgs {
		msgs[i] = message.NewMessage(watermill.NewUUID(), payload)
	}
	return msgs
}

func tributaryKafkaPublisher(brokers []string, payload []byte) func(context.Context) (func(context.Context, string, int) error, func() error, error) {
	return func(context.Context) (func(context.Context, string, int) error, func() error, error) {
		pub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: brokers, BatchSize: kafkaBatchSize})
		if err != nil {
			return nil, nil, err
		}
		publish := func(ctx context.Context, topic string, n int) error {
			return pub.PublishContext(ctx, topic, newWatermillMessages(n, payload)...)
		}
		return publish, pub.Close, nil
	}
}

func tributaryKafkaConsume(brokers []string, window int) consumeFunc {
	return func(ctx context.Context, topic, group string, n int) (consumeTimes, error) {
		sub, err := kafkabus.NewSubscriber(kafkabus.SubscriberConfig{
			Brokers: brokers, GroupID: group, StartFrom: kafkabus.StartEarliest,
			MaxInFlightPerPartition: window, MaxBytes: kafkaMaxBytes, MaxWait: kafkaMaxWait,
		})
		if err != nil {
			return consumeTimes{}, err
		}
		defer sub.Close()
		var ts consumeTimes
		ts.subscribed = time.Now()
		ch, err := sub.Subscribe(ctx, topic)
		if err != nil {
			return ts, err
		}
		return readWatermill(ctx, ch, n, ts)
	}
}

// readWatermill acks n messages from ch: the benchmark's handler.
func readWatermill(ctx context.Context, ch <-chan *message.Message, n int, ts consumeTimes) (consumeTimes, error) {
	for i := range n {
		select {
		case m, ok := <-ch:
			if !ok {
				return ts, fmt.Errorf("channel closed after %d of %d messages", i, n)
			}
			if i == 0 {
				ts.first = time.Now()
			}
			m.Ack()
		case <-ctx.Done():
			return ts, fmt.Errorf("after %d of %d messages: %w", i, n, ctx.Err())
		}
	}
	ts.last = time.Now()
	return ts, nil
}

func saramaConfig() (*sarama.Config, error) {
	v, err := sarama.ParseKafkaVersion(saramaProtocolVersion)
	if err != nil {
		return nil, err
	}
	cfg := wmkafka.DefaultSaramaSyncPublisherConfig()
	cfg.Version = v // record batches v2 with headers, as kafka-go sends
	cfg.Producer.RequiredAcks = sarama.WaitForAll
	cfg.Producer.Compression = sarama.CompressionNone
	cfg.Consumer.Offsets.Initial = sarama.OffsetOldest
	cfg.Consumer.Fetch.Max = kafkaMaxBytes
	cfg.Consumer.MaxWaitTime = kafkaMaxWait
	cfg.Consumer.Offsets.AutoCommit.Interval = kafkaRawCommitEvery
	cfg.Consumer.Return.Errors = true
	return cfg, nil
}

func saramaPublisher(brokers []string, payload []byte) func(context.Context) (func(context.Context, string, int) error, func() error, error) {
	return func(context.Context) (func(context.Context, string, int) error, func() error, error) {
		cfg, err := saramaConfig()
		if err != nil {
			return nil, nil, err
		}
		pub, err := wmkafka.NewPublisher(wmkafka.PublisherConfig{
			Brokers: brokers, Marshaler: wmkafka.DefaultMarshaler{}, OverwriteSaramaConfig: cfg,
		}, watermill.NopLogger{})
		if err != nil {
			return nil, nil, err
		}
		publish := func(_ context.Context, topic string, n int) error {
			return pub.Publish(topic, newWatermillMessages(n, payload)...)
		}
		return publish, pub.Close, nil
	}
}

func saramaConsume(brokers []string) consumeFunc {
	return func(ctx context.Context, topic, group string, n int) (consumeTimes, error) {
		cfg, err := saramaConfig()
		if err != nil {
			return consumeTimes{}, err
		}
		sub, err := wmkafka.NewSubscriber(wmkafka.SubscriberConfig{
			Brokers: brokers, Unmarshaler: wmkafka.DefaultMarshaler{}, ConsumerGroup: group, OverwriteSaramaConfig: cfg,
		}, watermill.NopLogger{})
		if err != nil {
			return consumeTimes{}, err
		}
		defer sub.Close()
		var ts consumeTimes
		ts.subscribed = time.Now()
		ch, err := sub.Subscribe(ctx, topic)
		if err != nil {
			return ts, err
		}
		return readWatermill(ctx, ch, n, ts)
	}
}

func kafkaGoPublisher(brokers []string, payload []byte) func(context.Context) (func(context.Context, string, int) error, func() error, error) {
	return func(context.Context) (func(context.Context, string, int) error, func() error, error) {
		defaults := kafkabus.DefaultPublisherConfig(kafkabus.PublisherConfig{})
		w := &kafka.Writer{
			Addr:         kafka.TCP(brokers...),
			Balancer:     &kafka.Murmur2Balancer{},
			BatchSize:    kafkaBatchSize,
			BatchTimeout: defaults.BatchTimeout,
			WriteTimeout: defaults.WriteTimeout,
			MaxAttempts:  defaults.MaxAttempts,
			RequiredAcks: kafka.RequireAll,
		}
		publish := func(ctx context.Context, topic string, n int) error {
			msgs := make([]kafka.Message, n)
			for i := range msgs {
				msgs[i] = kafka.Message{
					Topic:   topic,
					Value:   payload,
					Headers: []kafka.Header{{Key: bus.HeaderEventID, Value: []byte(watermill.NewUUID())}},
				}
			}
			return w.WriteMessages(ctx, msgs...)
		}
		return publish, w.Close, nil
	}
}

func kafkaGoConsume(brokers []string) consumeFunc {
	return func(ctx context.Context, topic, group string, n int) (consumeTimes, error) {
		r := kafka.NewReader(kafka.ReaderConfig{
			Brokers: brokers, GroupID: group, Topic: topic,
			MinBytes: 1, MaxBytes: kafkaMaxBytes, MaxWait: kafkaMaxWait,
			StartOffset:    kafka.FirstOffset,
			CommitInterval: kafkaRawCommitEvery, // CommitMessages only marks; commits are periodic, as ours
		})
		defer r.Close()
		ts := consumeTimes{subscribed: time.Now()}
		for i := range n {
			m, err := r.FetchMessage(ctx)
			if err != nil {
				return ts, fmt.Errorf("after %d of %d messages: %w", i, n, err)
			}
			if i == 0 {
				ts.first = time.Now()
			}
			if err := r.CommitMessages(ctx, m); err != nil {
				return ts, err
			}
		}
		ts.last = time.Now()
		return ts, nil
	}
}
