package publish

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/schemas"
)

// Conn is a Client with the broker connections it owns.
type Conn struct {
	*Client
	closers []func() error
}

// DialConfig names the brokers; either may be empty if no route uses it.
type DialConfig struct {
	Config
	NATSURL string
	// NATSOptions carry credentials and TLS (secure.NATS.Options).
	NATSOptions  []nats.Option
	KafkaBrokers []string
	// KafkaSecurity is the Kafka connection's TLS and SASL
	// (secure.Kafka.Security).
	KafkaSecurity kafkabus.SecurityConfig
	// Provision creates the routing table's streams and topics first
	// (idempotent); off when another service owns provisioning.
	Provision bool
	// Replicas is provision.Config.Replicas for what Provision creates:
	// 0 or 1 on single-node servers, 3 on a cluster.
	Replicas int
}

// Dial connects to the brokers and returns a ready client. Close it (after
// closing any Async built on it, so buffered events are still sent).
func Dial(ctx context.Context, cfg DialConfig) (*Conn, error) {
	c := &Conn{}
	transports := map[schemas.Transport]Transport{}
	var js jetstream.JetStream
	if cfg.NATSURL != "" {
		opts := append([]nats.Option{nats.Name("tributary-" + cfg.Source), nats.MaxReconnects(-1)}, cfg.NATSOptions...)
		nc, err := nats.Connect(cfg.NATSURL, opts...)
		if err != nil {
			return nil, fmt.Errorf("publish: connect nats %s: %w", secure.RedactURL(cfg.NATSURL), err)
		}
		c.closers = append(c.closers, func() error { nc.Close(); return nil })
		if js, err = jetstream.New(nc); err != nil {
			c.Close()
			return nil, fmt.Errorf("publish: jetstream: %w", err)
		}
		pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{Logger: cfg.Logger})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("publish: %w", err)
		}
		c.closers = append(c.closers, pub.Close)
		transports[schemas.TransportJetStream] = pub
	}
	if len(cfg.KafkaBrokers) > 0 {
		pub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: cfg.KafkaBrokers, Security: cfg.KafkaSecurity, Logger: cfg.Logger})
		if err != nil {
			c.Close()
			return nil, fmt.Errorf("publish: %w", err)
		}
		c.closers = append(c.closers, pub.Close)
		transports[schemas.TransportKafka] = pub
	}
	client, err := New(cfg.Config, transports)
	if err != nil {
		c.Close()
		return nil, err
	}
	c.Client = client
	if cfg.Provision {
		if err := provision.Apply(ctx, provision.Config{KafkaSecurity: cfg.KafkaSecurity, Replicas: cfg.Replicas}, js, cfg.KafkaBrokers, client.routes.Provisioning()); err != nil {
			c.Close()
			return nil, fmt.Errorf("publish: %w", err)
		}
	}
	return c, nil
}

// Close closes publishers before connections. Safe to call twice.
func (c *Conn) Close() error {
	var errs []error
	for i := len(c.closers) - 1; i >= 0; i-- {
		errs = append(errs, c.closers[i]())
	}
	c.closers = nil
	return errors.Join(errs...)
}
