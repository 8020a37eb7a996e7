package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("kafka: closed")

// Publisher writes Watermill messages to Kafka and returns only once every
// broker replica in the ISR has them (acks=all). It does not use the
// idempotent producer (kafka-go has none): a retried write after a lost
// response can store a message twice, so consumers deduplicate by event id.
//
// Publish and PublishContext are safe for concurrent use; concurrent calls
// share produce batches. Close waits for in-flight publishes.
type Publisher struct {
	cfg    PublisherConfig
	writer *kafka.Writer
	logger *slog.Logger

	gate bus.Gate
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher validates cfg and builds a publisher. It does no I/O: the
// writer connects on the first publish.
func NewPublisher(cfg PublisherConfig) (*Publisher, error) {
	cfg = DefaultPublisherConfig(cfg)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka publisher config: %w", err)
	}
	transport, err := cfg.Security.transport(cfg.MetadataTTL)
	if err != nil {
		return nil, fmt.Errorf("kafka publisher: %w", err)
	}
	w := &kafka.Writer{
		Addr: kafka.TCP(cfg.Brokers...),
		// Murmur2 is the Java client's partitioner: a key lands on the same
		// partition whichever client (Go, Java, Kafka Streams, Connect)
		// wrote it, so per-key order holds across producers. Messages
		// without a key are spread at random.
		Balancer:               &kafka.Murmur2Balancer{},
		MaxAttempts:            cfg.MaxAttempts,
		BatchSize:              cfg.BatchSize,
		BatchTimeout:           cfg.BatchTimeout,
		WriteTimeout:           cfg.WriteTimeout,
		RequiredAcks:           kafka.RequireAll, // kafka-go's zero value is acks=0
		Compression:            compressionCodecs[strings.ToLower(cfg.Compression)],
		Transport:              transport,
		AllowAutoTopicCreation: cfg.AllowAutoTopicCreation,
		ErrorLogger:            kafka.LoggerFunc(func(f string, a ...any) { cfg.Logger.Warn(fmt.Sprintf(f, a...), "component", "kafka-writer") }),
	}
	return &Publisher{cfg: cfg, writer: w, logger: cfg.Logger}, nil
}

// Publish writes msgs to topic in one request per partition batch and
// returns after the broker acked all of them. On error some of msgs may
// have been written; retrying is safe because consumers deduplicate.
//
// Watermill's interface has no ctx: as its contract asks, the messages'
// own contexts are honoured — the call ends with the first of them to be
// done (a router's handler passes its message's context on). The
// writer's timeouts bound it too, and Close never cuts it short.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	ctx, cancel := bus.MessagesContext(context.Background(), msgs)
	defer cancel()
	return p.PublishContext(ctx, topic, msgs...)
}

// PublishContext is Publish with a caller's deadline.
func (p *Publisher) PublishContext(ctx context.Context, topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if topic == "" {
		return errors.New("kafka publish: empty topic")
	}
	if !p.gate.Enter() {
		return ErrClosed
	}
	defer p.gate.Leave()

	records := make([]kafka.Message, len(msgs))
	for i, msg := range msgs {
		rec, err := toRecord(topic, msg, p.cfg.KeyFunc)
		if err != nil {
			return fmt.Errorf("kafka publish to %s: %w", topic, err)
		}
		records[i] = rec
	}
	// One call for the whole slice: the writer batches per partition and
	// waits for every batch's ack.
	if err := p.write(ctx, records); err != nil {
		return fmt.Errorf("kafka publish %d messages to %s: %w", len(records), topic, refused(err))
	}
	return nil
}

// write retries a write that failed because the topic is unknown. kafka-go
// answers partition lookups from a metadata cache refreshed every
// MetadataTTL and never refreshes it for an unknown topic, so a topic
// created after the last refresh looks missing for up to MetadataTTL. The
// lookup fails before anything is written, so the retry cannot duplicate.
func (p *Publisher) write(ctx context.Context, records []kafka.Message) error {
	deadline := time.Now().Add(2 * p.cfg.MetadataTTL)
	backoff := 50 * time.Millisecond
	for {
		err := p.writer.WriteMessages(ctx, records...)
		if err == nil || !errors.Is(err, kafka.UnknownTopicOrPartition) || time.Now().After(deadline) {
			return err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
		backoff = min(2*backoff, time.Second)
	}
}

// Close waits for in-flight publishes, then closes the writer. Safe to call
// more than once.
func (p *Publisher) Close() error {
	if !p.gate.Close() {
		return nil
	}
	if err := p.writer.Close(); err != nil {
		return fmt.Errorf("close kafka writer: %w", err)
	}
	return nil
}

// RequiredAcks reports the writer's acknowledgement level (for tests and
// diagnostics: it must be kafka-go's RequireAll).
func (p *Publisher) RequiredAcks() kafka.RequiredAcks { return p.writer.RequiredAcks }

// refused wraps err with bus.ErrRefused when a message is too large: for
// the writer's BatchBytes (1 MiB; kafka-go checks before sending) or for
// the broker's message.max.bytes. Such a message can never be written, so
// a caller must not retry it. Other errors are returned as they are.
func refused(err error) error {
	isLarge := func(e error) bool {
		return errors.Is(e, kafka.MessageSizeTooLarge) || errors.Is(e, kafka.RecordListTooLarge)
	}
	large := isLarge(err)
	var werrs kafka.WriteErrors
	if !large && errors.As(err, &werrs) {
		// WriteErrors has one error per message and no Unwrap.
		for _, e := range werrs {
			if e != nil && isLarge(e) {
				large = true
				break
			}
		}
	}
	if large {
		return fmt.Errorf("%w: %w", bus.ErrRefused, err)
	}
	return err
}
