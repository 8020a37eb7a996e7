package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/schemas"
)

// Consume is how a service consumes one source (schemas.Source): the one
// place the two transports' subscriber settings are derived, for ingest
// and the detectors alike.
type Consume struct {
	Name      string            // the JetStream durable or the Kafka consumer group
	Transport schemas.Transport // of the source
	Filter    string            // the source's subject filter or topic
	// InFlight bounds un-acked messages: a JetStream durable's
	// MaxAckPending, or a Kafka topic's, split over Partitions.
	InFlight   int
	Partitions int    // the Kafka topic's partition count (default 1)
	StartFrom  string // "earliest" or "latest", for a group that never consumed
	// AllowLatest opts in to StartFrom "latest", which skips what the
	// brokers retain; only test and demo harnesses set it.
	AllowLatest bool
	// AckWait (JetStream) and SessionTimeout (Kafka) bound how long a
	// crashed instance holds its messages or partitions; 0: the adapter's.
	AckWait, SessionTimeout time.Duration
	// MaxBytes bounds a Kafka partition reader's fetch buffer; 0: the
	// adapter's.
	MaxBytes int
	// KafkaSecurity is the Kafka connection's TLS and SASL.
	KafkaSecurity kafkabus.SecurityConfig
}

// Subscriber builds the Watermill subscriber of c.
func Subscriber(js jetstream.JetStream, brokers []string, c Consume, log *slog.Logger) (message.Subscriber, error) {
	if c.StartFrom == "latest" && !c.AllowLatest {
		return nil, fmt.Errorf("consume %s: StartFrom latest skips every retained event and is for tests only (AllowLatest is not set)", c.Name)
	}
	switch c.Transport {
	case schemas.TransportJetStream:
		return natsbus.NewSubscriber(js, natsbus.SubscriberConfig{
			Durable: c.Name, MaxAckPending: c.InFlight, FetchBatch: min(c.InFlight, 500),
			AckWait: c.AckWait, StartFrom: natsbus.StartFrom(c.StartFrom), Logger: log,
		})
	case schemas.TransportKafka:
		kc := kafkabus.SubscriberConfig{
			Brokers: brokers, GroupID: c.Name, Logger: log, MaxBytes: c.MaxBytes,
			// Per partition: each in-flight message holds a handler
			// goroutine, so this is the memory bound.
			MaxInFlightPerPartition: max(1, c.InFlight/max(c.Partitions, 1)),
			StartFrom:               kafkabus.StartOffset(c.StartFrom),
			AllowLatest:             c.AllowLatest,
			Security:                c.KafkaSecurity,
		}
		if t := c.SessionTimeout; t > 0 {
			// The drain must stay below the rebalance timeout (or the
			// coordinator evicts us before the final commit), heartbeats
			// well below the session.
			kc.SessionTimeout, kc.HeartbeatInterval = t, max(t/10, 100*time.Millisecond)
			kc.RebalanceTimeout, kc.DrainTimeout = t, t/2
		}
		return kafkabus.NewSubscriber(kc)
	}
	return nil, fmt.Errorf("consume %s: unknown transport %q", c.Name, c.Transport)
}

// LagProbe reads c's backlog: its Kafka group's lag per partition, or its
// JetStream durable's pending and unacked messages.
func LagProbe(js jetstream.JetStream, kc *kafka.Client, c Consume) observe.LagProbe {
	if c.Transport == schemas.TransportKafka {
		return func(ctx context.Context) (map[int]int64, error) { return kafkabus.GroupLag(ctx, kc, c.Name, c.Filter) }
	}
	return func(ctx context.Context) (map[int]int64, error) {
		n, err := natsbus.ConsumerLag(ctx, js, c.Name, c.Filter)
		return map[int]int64{0: n}, err
	}
}
