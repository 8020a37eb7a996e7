// Package publish is the SDK services use to put events on the bus:
// Publish validates an event, stamps what is missing (id, time, source,
// traceparent), routes it by the routing table and returns once every
// broker it goes to has confirmed it, retrying transient broker errors
// within a bounded budget. Async adds a bounded buffer with backpressure and
// per-event results for producers that cannot wait for each ack.
package publish

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

// Transport is what a bus adapter offers the SDK. Publish must return only
// after the broker acknowledged every message (JetStream PubAck, Kafka
// acks=all), must be safe for concurrent use, and must accept the same
// messages again after a failure (the client retries); infra/kafkabus and
// infra/natsbus publishers do all three.
type Transport interface {
	Publish(topic string, msgs ...*message.Message) error
}

// Config is the client's settings; zero fields take defaults.
type Config struct {
	// Source is stamped on events that have none, e.g. "//tributary/auth-service".
	Source  string
	Routing schemas.RoutingConfig // default schemas.DefaultRouting()
	Limits  schemas.Limits        // default schemas.DefaultLimits()
	Retry   RetryConfig           // see DefaultRetry
	Logger  *slog.Logger          // default: discard
}

// WithDefaults returns c with zero fields set to their defaults.
func (c Config) WithDefaults() Config {
	if c.Routing.Routes == nil {
		c.Routing = schemas.DefaultRouting()
	}
	if c.Limits == (schemas.Limits{}) {
		c.Limits = schemas.DefaultLimits()
	}
	c.Retry = DefaultRetry(c.Retry)
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
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
	if err := c.Retry.Validate(); err != nil {
		errs = append(errs, fmt.Errorf("publish: %w", err))
	}
	return errors.Join(errs...)
}

// Client publishes events. It is safe for concurrent use.
type Client struct {
	cfg        Config
	routes     *schemas.RoutingTable
	transports map[schemas.Transport]Transport
	metrics    *metrics
	logger     *slog.Logger

	// Seams for tests: the clock, the backoff wait and its jitter.
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	jitter func(time.Duration) time.Duration
}

// New builds a client over the given transports; a route that names a
// transport not given here fails at Publish with ErrNoRoute. It does no I/O.
func New(cfg Config, transports map[schemas.Transport]Transport) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	routes, err := schemas.NewRoutingTable(cfg.Routing)
	if err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	return &Client{cfg: cfg, routes: routes, transports: transports, metrics: newMetrics(),
		logger: cfg.Logger, now: time.Now, sleep: sleepCtx, jitter: equalJitter}, nil
}

// Metrics returns a snapshot of the client's counters and latencies.
func (c *Client) Metrics() Metrics { return c.metrics.snapshot() }

// Publish stamps id (UUIDv7), time, source, specversion and traceparent
// when absent, validates the event, and publishes it to every destination
// of its route, retrying transient broker errors (see RetryConfig). It
// returns the event as published.
//
// Errors: errors.Is(err, schemas.ErrInvalid) for an event that breaks its
// contract (the message names the field) or that a broker refused as too
// large; ErrNoRoute; ErrUnavailable once the retry budget is spent; ctx's
// error if ctx ended first. On error, destinations before the failing one
// may have the event; publishing it again with the same id is safe
// (JetStream deduplicates by id, consumers by event id).
func (c *Client) Publish(ctx context.Context, env schemas.Envelope) (schemas.Envelope, error) {
	start := c.now()
	p, err := c.prepare(ctx, env)
	if err != nil {
		return p.env, c.finish(err)
	}
	for i, d := range p.dests {
		if err := c.deliver(ctx, d.Transport, d.Name(), p.msgs[i:i+1]); err != nil {
			c.metrics.transport(d.Transport).failed.Add(1)
			return p.env, c.finish(fmt.Errorf("publish %s %s to %s %s: %w", p.env.Type, p.env.ID, d.Transport, d.Name(), err))
		}
		c.metrics.transport(d.Transport).published.Add(1)
	}
	c.metrics.latency.Observe(c.now().Sub(start))
	return p.env, c.finish(nil)
}

// finish counts one completed event.
func (c *Client) finish(err error) error {
	switch {
	case err == nil:
		c.metrics.published.Add(1)
	case errors.Is(err, schemas.ErrInvalid) || errors.Is(err, ErrNoRoute):
		c.metrics.invalid.Add(1)
		c.metrics.failed.Add(1)
	default:
		c.metrics.failed.Add(1)
	}
	return err
}

// prepared is an event ready to send: one message per destination.
type prepared struct {
	env   schemas.Envelope
	dests []schemas.Destination
	msgs  []*message.Message
}

// prepare does everything that cannot fail on the broker's account, so an
// event that can never be published fails before it takes buffer space.
func (c *Client) prepare(ctx context.Context, env schemas.Envelope) (prepared, error) {
	env, err := c.stamp(ctx, env)
	if err != nil {
		return prepared{env: env}, err
	}
	if err := schemas.Validate(env, c.now(), c.cfg.Limits); err != nil {
		return prepared{env: env}, fmt.Errorf("publish %s: %w", env.Type, err)
	}
	dests, err := c.routes.Resolve(env)
	if err != nil {
		if !errors.Is(err, schemas.ErrInvalid) {
			err = fmt.Errorf("%w: %w", ErrNoRoute, err)
		}
		return prepared{env: env}, fmt.Errorf("publish %s: %w", env.Type, err)
	}
	p := prepared{env: env, dests: dests, msgs: make([]*message.Message, len(dests))}
	for i, d := range dests {
		if _, ok := c.transports[d.Transport]; !ok {
			return prepared{env: env}, fmt.Errorf("publish %s %s: %w: no %s transport configured",
				env.Type, env.ID, ErrNoRoute, d.Transport)
		}
		p.msgs[i] = Message(ctx, env, d.Key)
	}
	return p, nil
}

func (c *Client) stamp(ctx context.Context, env schemas.Envelope) (schemas.Envelope, error) {
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
	env.TraceParent = traceParent(ctx, env.TraceParent)
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
