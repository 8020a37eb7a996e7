package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/schemas"
)

// Errors callers branch on. Every error Publish returns for an event that
// can never be published wraps schemas.ErrInvalid, ErrNoRoute or ErrClosed;
// anything else was transient and retried until the RetryConfig budget ran
// out, and then wraps ErrUnavailable.
var (
	// ErrNoRoute: the routing table has no destination for the event's type,
	// or names a transport this client was not given.
	ErrNoRoute = errors.New("publish: no route")
	// ErrUnavailable: the broker kept failing with transient errors
	// (unreachable, timeouts, leader elections) until the retry budget ran
	// out. Publishing the same event (same id) again later is safe.
	ErrUnavailable = errors.New("publish: broker unavailable")
	// ErrClosed: the client or its transport was closed.
	ErrClosed = errors.New("publish: closed")
)

// permanent returns err wrapped with the sentinel that says why no retry can
// help, or nil when err is (or may be) transient.
//
// The default is "transient" on purpose: broker outages surface as a long
// tail of net, io and protocol errors that no list could name, and a
// wrongly retried permanent error costs only the bounded retry budget, while
// a wrongly failed transient one loses an event.
func permanent(err error) error {
	switch {
	case errors.Is(err, schemas.ErrInvalid), errors.Is(err, ErrNoRoute), errors.Is(err, ErrClosed):
		return err
	case errors.Is(err, context.Canceled):
		// The caller gave up; retrying against its will helps no one.
		return err
	case errors.Is(err, natsbus.ErrClosed), errors.Is(err, kafkabus.ErrClosed), errors.Is(err, nats.ErrConnectionClosed):
		return fmt.Errorf("%w: %w", ErrClosed, err)
	case errors.Is(err, nats.ErrMaxPayload):
		return fmt.Errorf("%w: the NATS server refused the message: %w", schemas.ErrTooLarge, err)
	case errors.Is(err, nats.ErrBadSubject):
		return fmt.Errorf("%w: %w", ErrNoRoute, err)
	}
	if kerr, ok := kafkaError(err); ok {
		switch {
		case kerr == kafka.MessageSizeTooLarge || kerr == kafka.RecordListTooLarge:
			return fmt.Errorf("%w: the Kafka broker refused the message: %w", schemas.ErrTooLarge, err)
		case kerr == kafka.InvalidTopic:
			return fmt.Errorf("%w: %w", ErrNoRoute, err)
		case !kerr.Temporary() && kerr != kafka.UnknownTopicOrPartition:
			// Authorization, invalid record, unsupported version: the broker
			// says no and will keep saying it. An unknown topic is left
			// transient because it is what a broker still starting answers.
			return err
		}
	}
	return nil
}

// kafkaError finds a Kafka protocol error in err, also inside kafka-go's
// WriteErrors (one error per message, and no Unwrap).
func kafkaError(err error) (kafka.Error, bool) {
	var kerr kafka.Error
	if errors.As(err, &kerr) {
		return kerr, true
	}
	var werrs kafka.WriteErrors
	if errors.As(err, &werrs) {
		for _, e := range werrs {
			if e != nil && errors.As(e, &kerr) {
				return kerr, true
			}
		}
	}
	return 0, false
}
