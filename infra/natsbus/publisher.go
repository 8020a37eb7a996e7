package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
)

// ErrClosed is returned by Publish and Subscribe after Close.
var ErrClosed = errors.New("jetstream: closed")

// Publisher publishes Watermill messages to JetStream and returns only
// after the stream acknowledged them. The subject is the Watermill topic.
// Safe for concurrent use; Close waits for in-flight publishes. The NATS
// connection belongs to the caller and is not closed.
type Publisher struct {
	js     jetstream.JetStream
	cfg    PublisherConfig
	logger *slog.Logger

	gate bus.Gate
}

var _ message.Publisher = (*Publisher)(nil)

// NewPublisher validates cfg; it does no I/O.
func NewPublisher(js jetstream.JetStream, cfg PublisherConfig) (*Publisher, error) {
	cfg = DefaultPublisherConfig(cfg)
	var errs []error
	if js == nil {
		errs = append(errs, errors.New("js: required"))
	}
	errs = append(errs, cfg.Validate())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("jetstream publisher config: %w", err)
	}
	return &Publisher{js: js, cfg: cfg, logger: cfg.Logger}, nil
}

// Publish publishes msgs to subject topic within PublishTimeout.
//
// Watermill's interface has no ctx: as its contract asks, the messages'
// own contexts are honoured — the call ends with the first of them to be
// done (a router's handler passes its message's context on) — bounded by
// PublishTimeout.
func (p *Publisher) Publish(topic string, msgs ...*message.Message) error {
	ctx, cancel := context.WithTimeout(context.Background(), p.cfg.PublishTimeout)
	defer cancel()
	ctx, stop := bus.MessagesContext(ctx, msgs)
	defer stop()
	return p.PublishContext(ctx, topic, msgs...)
}

// PublishContext publishes msgs and waits for every PubAck. On error some
// messages may be stored; retrying is safe within the stream's Duplicates
// window (Nats-Msg-Id).
func (p *Publisher) PublishContext(ctx context.Context, topic string, msgs ...*message.Message) error {
	if len(msgs) == 0 {
		return nil
	}
	if topic == "" {
		return errors.New("jetstream publish: empty subject")
	}
	if !p.gate.Enter() {
		return ErrClosed
	}
	defer p.gate.Leave()

	if len(msgs) == 1 {
		ack, err := p.js.PublishMsg(ctx, toNATS(topic, msgs[0]))
		if err != nil {
			return fmt.Errorf("jetstream publish %s to %s: %w", msgs[0].UUID, topic, refused(err))
		}
		p.logDuplicate(ack, msgs[0].UUID)
		return nil
	}
	// Pipeline the slice: MaxPending publishes in the air, then wait for
	// their acks before sending more.
	for start := 0; start < len(msgs); start += p.cfg.MaxPending {
		chunk := msgs[start:min(start+p.cfg.MaxPending, len(msgs))]
		futures := make([]jetstream.PubAckFuture, 0, len(chunk))
		for _, msg := range chunk {
			f, err := p.js.PublishMsgAsync(toNATS(topic, msg))
			if err != nil {
				return fmt.Errorf("jetstream publish %s to %s: %w", msg.UUID, topic, refused(err))
			}
			futures = append(futures, f)
		}
		for i, f := range futures {
			select {
			case ack := <-f.Ok():
				p.logDuplicate(ack, chunk[i].UUID)
			case err := <-f.Err():
				return fmt.Errorf("jetstream publish %s to %s: %w", chunk[i].UUID, topic, refused(err))
			case <-ctx.Done():
				return fmt.Errorf("jetstream publish to %s: waiting for acks: %w", topic, ctx.Err())
			}
		}
	}
	return nil
}

func (p *Publisher) logDuplicate(ack *jetstream.PubAck, id string) {
	if ack != nil && ack.Duplicate {
		p.logger.Debug("jetstream dropped duplicate publish", "id", id, "stream", ack.Stream)
	}
}

// Close waits for in-flight publishes. Safe to call more than once.
func (p *Publisher) Close() error {
	if !p.gate.Close() {
		return nil
	}
	return nil
}

// refused wraps err with bus.ErrRefused when it refuses the message itself:
// over the server's max_payload (the client checks before sending) or the
// stream's max message size. Other errors are returned as they are.
func refused(err error) error {
	var apiErr *jetstream.APIError
	if errors.Is(err, nats.ErrMaxPayload) ||
		(errors.As(err, &apiErr) && apiErr.ErrorCode == jetstream.JSErrCodeStreamMessageExceedsMaximum) {
		return fmt.Errorf("%w: %w", bus.ErrRefused, err)
	}
	return err
}
