package natsbus

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// ConsumerLag is how many messages the consumer a Subscriber with this
// Durable made for subjectFilter has not acked yet: those not delivered
// (num_pending) and those delivered but unacked.
func ConsumerLag(ctx context.Context, js jetstream.JetStream, durable, subjectFilter string) (int64, error) {
	name := consumerName(durable, subjectFilter)
	stream, err := js.StreamNameBySubject(ctx, subjectFilter)
	if err != nil {
		return 0, fmt.Errorf("lag of %s: stream of %s: %w", name, subjectFilter, err)
	}
	c, err := js.Consumer(ctx, stream, name)
	if err != nil {
		return 0, fmt.Errorf("lag of %s on %s: %w", name, stream, err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		return 0, fmt.Errorf("lag of %s on %s: %w", name, stream, err)
	}
	return int64(info.NumPending) + int64(info.NumAckPending), nil
}
