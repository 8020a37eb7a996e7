// Package publish is the SDK services use to put events on the bus:
// Publish validates an event, stamps what is missing, routes it by the
// routing table and returns once every broker it goes to has confirmed it.
package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

// Transport is what a bus adapter offers the SDK. Publish must return only
// after the broker acknowledged every message (JetStream PubAck, Kafka
// acks=all); infra/bus/kafka and infra/bus/jetstream publishers do.
type Transport interface {
	Publish(topic string, msgs ...*message.Message) error
}

// Config is the client's settings; zero fields take defaults.
type Config struct {
	// Source is stamped on events that have none, e.g. "//tributary/auth-service".
	Source  string
	Routing schemas.RoutingConfig
	Limits  schemas.Limits
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Source == "" {
		errs = append(errs, errors.New("publish: Source is empty"))
	}
	if len(c.Routing.Routes) == 0 {
		errs = append(errs, errors.New("publish: Routing has no routes"))
	}
	if err := c.Limits.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("publish: Limits: %w", err))
	}
	return errors.Join(errs...)
}

// Client publishes events. It is safe for concurrent use.
type Client struct {
	cfg        Config
	routes     *schemas.RoutingTable
	transports map[schemas.Transport]Transport
	now        func() time.Time
}

// New builds a client over the given transports; a route that names a
// transport not given here fails at Publish with a clear error.
func New(cfg Config, transports map[schemas.Transport]Transport) (*Client, error) {
	if cfg.Routing.Routes == nil {
		cfg.Routing = schemas.DefaultRouting()
	}
	if cfg.Limits == (schemas.Limits{}) {
		cfg.Limits = schemas.DefaultLimits()
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	routes, err := schemas.NewRoutingTable(cfg.Routing)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return &Client{cfg: cfg, routes: routes, transports: transports, now: time.Now}, nil
}

// Publish stamps id (UUIDv7), time, source and specversion when absent,
// validates the event, and publishes it to every destination of its route.
// It returns the event as published; on error nothing is guaranteed about
// destinations after the first failure, and publishing again with the same
// id is safe (JetStream deduplicates by id, consumers by event id).
func (c *Client) Publish(ctx context.Context, env schemas.Envelope) (schemas.Envelope, error) {
	env, err := c.stamp(env)
	if err != nil {
		return env, err
	}
	if err := schemas.Validate(env, c.now(), c.cfg.Limits); err != nil {
		return env, fmt.Errorf("publish %s: %w", env.Type, err)
	}
	dests, err := c.routes.Resolve(env)
	if err != nil {
		return env, fmt.Errorf("publish %s: %w", env.Type, err)
	}
	for _, d := range dests {
		t, ok := c.transports[d.Transport]
		if !ok {
			return env, fmt.Errorf("publish %s %s: no %s transport configured", env.Type, env.ID, d.Transport)
		}
		msg := Message(ctx, env, d.Key)
		if err := t.Publish(destName(d), msg); err != nil {
			return env, fmt.Errorf("publish %s %s to %s %s: %w", env.Type, env.ID, d.Transport, destName(d), err)
		}
	}
	return env, nil
}

func (c *Client) stamp(env schemas.Envelope) (schemas.Envelope, error) {
	if env.ID == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return env, fmt.Errorf("publish: new event id: %w", err)
		}
		env.ID = id.String()
	}
	if env.Time.IsZero() {
		env.Time = c.now().UTC()
	}
	if env.Source == "" {
		env.Source = c.cfg.Source
	}
	if env.SpecVersion == "" {
		env.SpecVersion = schemas.SpecVersion
	}
	return env, nil
}

// Message is env in CloudEvents binary mode: attributes as metadata, data
// as the body, the event id as the message UUID.
func Message(ctx context.Context, env schemas.Envelope, key string) *message.Message {
	msg := message.NewMessage(env.ID, message.Payload(env.Data))
	for k, v := range env.Metadata() {
		msg.Metadata.Set(k, v)
	}
	if key != "" {
		msg.Metadata.Set(schemas.MetaPartitionKey, key)
	}
	msg.SetContext(ctx)
	return msg
}

// destName is the topic Watermill publishes to: the JetStream subject or the
// Kafka topic.
func destName(d schemas.Destination) string {
	if d.Transport == schemas.TransportJetStream {
		return d.Subject
	}
	return d.Topic
}
