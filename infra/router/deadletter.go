package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/tributary-io/tributary/infra/bus"
)

// DeadLetterErrorKey is the metadata key under which a dead letter stored
// by the terminal path records why its dead-letter publish failed.
const DeadLetterErrorKey = "dead_letter_error"

// DeadLetterConfig configures DeadLetter.
type DeadLetterConfig struct {
	// Publisher and Topic are the dead-letter destination.
	Publisher message.Publisher
	Topic     string
	// IsPoison says whether a handler error means the message can never
	// succeed. Every other error passes through, to be retried without
	// limit: it is about a server's state, not the message.
	IsPoison func(error) bool
	// Store writes a dead letter to its final place without the broker: the
	// terminal path once the destination refused the message
	// (bus.ErrRefused, e.g. too large) or kept failing for MaxDeliveries
	// deliveries. It returns nil only once the dead letter is stored.
	Store func(ctx context.Context, msg *message.Message) error
	// MaxDeliveries bounds the deliveries of a poison message whose
	// dead-letter publish fails for a reason that may pass (a broker
	// timeout). Default 5.
	MaxDeliveries int
	Logger        *slog.Logger
	// SourceHandler and SourceTopic name the handler and the topic in a
	// dead letter's metadata (handler_poisoned, topic_poisoned) when the
	// message's context does not, because it was handled outside a
	// Watermill router (ingest's batch path, which keeps the same
	// metadata this way).
	SourceHandler, SourceTopic string
}

// WithDefaults fills unset fields.
func (c DeadLetterConfig) WithDefaults() DeadLetterConfig {
	if c.MaxDeliveries == 0 {
		c.MaxDeliveries = 5
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Validate reports every problem at once.
func (c DeadLetterConfig) Validate() error {
	var errs []error
	if c.Publisher == nil {
		errs = append(errs, errors.New("dead letter: Publisher is required"))
	}
	if c.Topic == "" {
		errs = append(errs, errors.New("dead letter: Topic is required"))
	}
	if c.IsPoison == nil {
		errs = append(errs, errors.New("dead letter: IsPoison is required"))
	}
	if c.Store == nil {
		errs = append(errs, errors.New("dead letter: Store is required (the terminal path when the destination refuses a message)"))
	}
	if c.MaxDeliveries < 1 {
		errs = append(errs, fmt.Errorf("dead letter: MaxDeliveries %d must be at least 1", c.MaxDeliveries))
	}
	return errors.Join(errs...)
}

// DeadLetter returns the handler middleware that takes a poison message off
// its partition for good, and only a poison message:
//
//   - a handler error that is not poison passes through unchanged: the
//     message is retried and redelivered without limit, so a server outage
//     of any length never moves a good event out of its way;
//   - a poison message is published to Topic with Watermill's poison
//     metadata (reason_poisoned, topic_poisoned, ...) and acked;
//   - if that publish is refused for the message itself (bus.ErrRefused,
//     e.g. a Kafka record over the 1 MiB client limit), or has failed on
//     MaxDeliveries deliveries (bus.DeliveryAttempt; a transport that does
//     not count counts as past the bound), Store writes it directly and
//     the message is acked — on JetStream as a Term (bus.Terminate);
//   - if Store fails too, the error is returned and the message is never
//     acked: a dead letter that cannot be stored is redelivered.
//
// Before that bound is reached, a failed publish returns an error, so the
// message is redelivered: the dead-letter destination keeps the whole
// message, the terminal path a truncated one.
func DeadLetter(cfg DeadLetterConfig) (message.HandlerMiddleware, error) {
	dispose, err := DeadLetterFunc(cfg)
	if err != nil {
		return nil, err
	}
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			out, err := h(msg)
			if err == nil || !cfg.IsPoison(err) {
				return out, err
			}
			return nil, dispose(msg, err)
		}
	}, nil
}

// DeadLetterFunc is DeadLetter's poison path on its own, for code that
// handles messages without a Watermill HandlerFunc per message: given a
// message whose handling failed with poison cause, it dead-letters it
// exactly as the middleware does and returns nil when the message may be
// acked, or the error for which it must be nacked. Callers check IsPoison
// themselves.
func DeadLetterFunc(cfg DeadLetterConfig) (func(msg *message.Message, cause error) error, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return func(msg *message.Message, cause error) error { return deadLetter(cfg, msg, cause) }, nil
}

// deadLetter disposes of poison msg (handler error cause); nil means msg
// may be acked.
func deadLetter(cfg DeadLetterConfig, msg *message.Message, cause error) error {
	ctx := msg.Context()
	dl := msg.Copy()
	dl.SetContext(ctx) // publishers honour the message context (shutdown)
	dl.Metadata.Set(middleware.ReasonForPoisonedKey, cause.Error())
	dl.Metadata.Set(middleware.PoisonedTopicKey, orElse(message.SubscribeTopicFromCtx(ctx), cfg.SourceTopic))
	dl.Metadata.Set(middleware.PoisonedHandlerKey, orElse(message.HandlerNameFromCtx(ctx), cfg.SourceHandler))
	dl.Metadata.Set(middleware.PoisonedSubscriberKey, message.SubscriberNameFromCtx(ctx))
	perr := cfg.Publisher.Publish(cfg.Topic, dl)
	if perr == nil {
		return nil
	}
	attempt := bus.DeliveryAttempt(ctx)
	refused := errors.Is(perr, bus.ErrRefused)
	log := cfg.Logger.With("event_id", msg.UUID, "dead_letter_topic", cfg.Topic, "delivery", attempt,
		"max_deliveries", cfg.MaxDeliveries, "publish_err", perr)
	if !refused && attempt > 0 && attempt < cfg.MaxDeliveries {
		log.Warn("dead-letter publish failed; the poison message will be redelivered")
		return fmt.Errorf("dead-letter %s to %s on delivery %d of %d: %w", msg.UUID, cfg.Topic, attempt, cfg.MaxDeliveries,
			errors.Join(cause, perr))
	}
	dl.Metadata.Set(DeadLetterErrorKey, perr.Error())
	if err := cfg.Store(ctx, dl); err != nil {
		log.Error("dead letter could not be stored directly either; not acked", "store_err", err)
		return fmt.Errorf("dead-letter %s: publish to %s failed (%w) and storing it directly failed: %w", msg.UUID, cfg.Topic, perr, err)
	}
	bus.Terminate(ctx)
	log.Warn("dead-letter destination refused the poison message; stored it directly", "refused", refused)
	return nil
}

func orElse(s, fallback string) string {
	if s == "" {
		return fallback
	}
	return s
}
