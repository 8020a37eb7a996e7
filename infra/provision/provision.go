// Package provision creates what the routing table publishes to: JetStream
// streams and Kafka topics, idempotently, so every service can call it at
// start-up and the first one to run sets the bus up.
package provision

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/schemas"
)

// Config sizes what gets created. Zero fields take the defaults.
type Config struct {
	// TopicPartitions is the partition count of new topics (default 3): the
	// most consumer instances one group can spread a topic across.
	TopicPartitions int
	// Replicas is how many copies the brokers keep of every stream and
	// topic partition: 1 (the default) for single-node servers, 3 on a
	// cluster (the -replicas setting; a clustered local stack's env file
	// sets TRIBUTARY_REPLICAS=3). It fills Stream.Replicas and
	// ReplicationFactor where they are unset. A stream is never scaled
	// down by provisioning: one that has more replicas keeps them, so a
	// service started without the setting cannot undo a cluster's.
	Replicas int
	// ReplicationFactor of new topics (default Replicas).
	ReplicationFactor int
	// MinInsyncReplicas is min.insync.replicas of new topics: how many
	// replicas must hold an acks=all write. Default ReplicationFactor-1
	// from a factor of 3 up (one node may be lost without refusing or
	// losing writes), else 0: the broker's default (1).
	MinInsyncReplicas int
	// Stream is the template for every stream: limits, duplicates window.
	// Its MaxAge defaults to DefaultRetention and its MaxBytes to
	// DefaultStreamBytes; -1 makes either unlimited.
	Stream natsbus.StreamSpec
	// TopicRetention and TopicRetentionBytes are retention.ms and
	// retention.bytes (per partition) of new topics: defaults
	// DefaultRetention and DefaultTopicBytes, -1: unlimited. Existing
	// topics keep theirs.
	TopicRetention      time.Duration
	TopicRetentionBytes int64
	// KafkaSecurity is the TLS and SASL of the admin connection that
	// creates topics (secure.Kafka.Security).
	KafkaSecurity kafkabus.SecurityConfig
}

// Retention defaults. Without them streams and topics grew until the disk
// was full. Seven days leaves a week to notice and fix a stopped consumer;
// the byte caps keep a burst from filling a developer's disk (a stream's
// MaxBytes is reserved on the server's store when it is created, so it
// must fit the disk of the smallest machine it runs on). Production sets
// them from its disk budget.
const (
	DefaultRetention         = 7 * 24 * time.Hour
	DefaultStreamBytes int64 = 1 << 30
	DefaultTopicBytes  int64 = 1 << 30
)

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.TopicPartitions == 0 {
		c.TopicPartitions = 3
	}
	if c.Replicas == 0 {
		c.Replicas = 1
	}
	if c.ReplicationFactor == 0 {
		c.ReplicationFactor = c.Replicas
	}
	if c.MinInsyncReplicas == 0 && c.ReplicationFactor >= 3 {
		c.MinInsyncReplicas = c.ReplicationFactor - 1
	}
	if c.Stream.Replicas == 0 {
		c.Stream.Replicas = c.Replicas
	}
	if c.Stream.MaxAge == 0 {
		c.Stream.MaxAge = DefaultRetention
	}
	if c.Stream.MaxBytes == 0 {
		c.Stream.MaxBytes = DefaultStreamBytes
	}
	if c.TopicRetention == 0 {
		c.TopicRetention = DefaultRetention
	}
	if c.TopicRetentionBytes == 0 {
		c.TopicRetentionBytes = DefaultTopicBytes
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.TopicPartitions < 1 {
		errs = append(errs, fmt.Errorf("provision: TopicPartitions %d must be at least 1", c.TopicPartitions))
	}
	if c.Replicas < 1 || c.Replicas > 5 {
		errs = append(errs, fmt.Errorf("provision: Replicas %d must be between 1 and 5 (JetStream's limit)", c.Replicas))
	}
	if c.ReplicationFactor < 1 {
		errs = append(errs, fmt.Errorf("provision: ReplicationFactor %d must be at least 1", c.ReplicationFactor))
	}
	if c.MinInsyncReplicas < 0 || c.MinInsyncReplicas > c.ReplicationFactor {
		errs = append(errs, fmt.Errorf("provision: MinInsyncReplicas %d must be between 0 (broker default) and ReplicationFactor %d", c.MinInsyncReplicas, c.ReplicationFactor))
	}
	if c.Stream.MaxAge < -1 {
		errs = append(errs, fmt.Errorf("provision: Stream.MaxAge %s must be -1 (unlimited) or positive", c.Stream.MaxAge))
	}
	if c.Stream.MaxBytes < -1 {
		errs = append(errs, fmt.Errorf("provision: Stream.MaxBytes %d must be -1 (unlimited) or positive", c.Stream.MaxBytes))
	}
	if c.TopicRetention < -1 || (c.TopicRetention > 0 && c.TopicRetention < time.Millisecond) {
		errs = append(errs, fmt.Errorf("provision: TopicRetention %s must be -1 (unlimited) or at least 1ms", c.TopicRetention))
	}
	if c.TopicRetentionBytes < -1 {
		errs = append(errs, fmt.Errorf("provision: TopicRetentionBytes %d must be -1 (unlimited) or positive", c.TopicRetentionBytes))
	}
	return errors.Join(errs...)
}

// Apply makes every stream and topic of p exist. js or brokers may be nil
// for a service that uses only one transport; that transport's part is
// then skipped.
func Apply(ctx context.Context, cfg Config, js jetstream.JetStream, brokers []string, p schemas.Provisioning) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if js != nil {
		for _, s := range p.Streams {
			spec := cfg.Stream
			spec.Name, spec.Subjects = s.Name, s.Subjects
			if have, err := existingReplicas(ctx, js, s.Name); err != nil {
				return fmt.Errorf("provision stream %s: %w", s.Name, err)
			} else if have > spec.Replicas {
				spec.Replicas = have
			}
			if err := natsbus.EnsureStream(ctx, js, spec); err != nil {
				return fmt.Errorf("provision stream %s: %w", s.Name, err)
			}
		}
	}
	if len(brokers) > 0 && len(p.Topics) > 0 {
		specs := make([]kafkabus.TopicSpec, len(p.Topics))
		for i, t := range p.Topics {
			specs[i] = kafkabus.TopicSpec{Name: t, Partitions: cfg.TopicPartitions, ReplicationFactor: cfg.ReplicationFactor,
				MinInsyncReplicas: cfg.MinInsyncReplicas, Retention: cfg.TopicRetention, RetentionBytes: cfg.TopicRetentionBytes}
		}
		if err := kafkabus.EnsureTopics(ctx, brokers, specs, kafkabus.WithSecurity(cfg.KafkaSecurity)); err != nil {
			return fmt.Errorf("provision topics: %w", err)
		}
	}
	return nil
}

// existingReplicas is the replica count of stream name, 0 if it does not exist.
func existingReplicas(ctx context.Context, js jetstream.JetStream, name string) (int, error) {
	st, err := js.Stream(ctx, name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("stream info: %w", err)
	}
	return st.CachedInfo().Config.Replicas, nil
}

// Bus is a JetStream connection on which the routing table's streams and
// topics are known to exist: what every service needs before it subscribes
// or publishes.
type Bus struct {
	NC *nats.Conn
	JS jetstream.JetStream
}

// Connect dials NATS as name (reconnecting forever: a broker restart must
// not end a service), opens JetStream and applies the routing table's
// provisioning to it and to the Kafka brokers.
//
// opts carry credentials and TLS (secure.NATS.Options); the URL is
// redacted in errors, so a password in it is never printed.
func Connect(ctx context.Context, cfg Config, name, natsURL string, brokers []string, routes *schemas.RoutingTable, opts ...nats.Option) (*Bus, error) {
	nc, err := nats.Connect(natsURL, append([]nats.Option{nats.Name(name), nats.MaxReconnects(-1)}, opts...)...)
	if err != nil {
		return nil, fmt.Errorf("connect nats %s: %w", secure.RedactURL(natsURL), err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if err := Apply(ctx, cfg, js, brokers, routes.Provisioning()); err != nil {
		nc.Close()
		return nil, err
	}
	return &Bus{NC: nc, JS: js}, nil
}

// Close closes the NATS connection; it returns an error for use as a closer.
func (b *Bus) Close() error {
	b.NC.Close()
	return nil
}
