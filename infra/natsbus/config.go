package natsbus

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// PublisherConfig configures a Publisher; zero fields take defaults.
type PublisherConfig struct {
	// PublishTimeout bounds one Publish call, acks included (default 10s).
	PublishTimeout time.Duration
	// MaxPending is how many async publishes of one slice are outstanding
	// at once (default 256); it must stay below the JetStream context's
	// own async limit (nats.go default 4000).
	MaxPending int
	Logger     *slog.Logger // default: discard
}

// DefaultPublisherConfig returns cfg with zero fields set to their defaults.
func DefaultPublisherConfig(cfg PublisherConfig) PublisherConfig {
	if cfg.PublishTimeout == 0 {
		cfg.PublishTimeout = 10 * time.Second
	}
	if cfg.MaxPending == 0 {
		cfg.MaxPending = 256
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Validate reports every invalid field at once.
func (c PublisherConfig) Validate() error {
	var errs []error
	if c.PublishTimeout <= 0 {
		errs = append(errs, fmt.Errorf("PublishTimeout: must be positive, got %s", c.PublishTimeout))
	}
	if c.MaxPending < 1 {
		errs = append(errs, fmt.Errorf("MaxPending: must be at least 1, got %d", c.MaxPending))
	}
	return errors.Join(errs...)
}

// StartFrom says where a new durable consumer starts.
type StartFrom string

const (
	StartEarliest StartFrom = "earliest" // every message the stream holds
	StartLatest   StartFrom = "latest"   // only messages stored after creation
)

// SubscriberConfig configures a Subscriber; zero fields take defaults.
type SubscriberConfig struct {
	// Durable is the consumer group name, shared by all instances. Required.
	Durable string
	// Stream holds the subjects; empty: looked up from the subject.
	Stream    string
	StartFrom StartFrom // default StartEarliest
	// AckWait is how long the server waits for an ack (or an in-progress
	// signal) before redelivering (default 30s).
	AckWait time.Duration
	// MaxDeliver caps deliveries per message; -1 (the default) is
	// unlimited. A finite cap makes the server drop a message silently
	// after it, and the server counts every redelivery, including those of
	// a good event waiting out a ClickHouse outage; so ingest keeps it
	// unlimited and bounds poison alone (router.DeadLetter, which reads
	// the count through bus.DeliveryAttempt and ends with a Term).
	MaxDeliver int
	// MaxAckPending caps un-acked messages across all instances (default 1000).
	MaxAckPending int
	// NakDelay is the redelivery delay after the first Nack; it doubles per
	// delivery up to MaxNakDelay (defaults 100ms and 10s).
	NakDelay    time.Duration
	MaxNakDelay time.Duration
	// PullMaxBytes bounds the bytes the client buffers ahead of the
	// handlers, pulled but not yet handed out; the number of them is
	// bounded by MaxAckPending. Bounded by count alone, 100 buffered 1 MiB
	// events held 100 MiB per subscription. It must be at least twice the
	// server's max payload, or a message the server accepts might not fit
	// a pull (the client asks for what is left after what it holds):
	// Subscribe checks it. 0 (the default) is exactly twice the max
	// payload the server announces (2 MiB at NATS's default); -1 turns the
	// byte bound off and pulls FetchBatch messages at a time instead.
	PullMaxBytes int
	// FetchBatch is how many messages one pull asks for when PullMaxBytes
	// is -1 (default 100, at most MaxAckPending).
	FetchBatch int
	// DrainTimeout bounds the wait for in-flight acks on Close (default 10s).
	DrainTimeout time.Duration
	Logger       *slog.Logger // default: discard
}

// DefaultSubscriberConfig returns cfg with zero fields set to their defaults.
func DefaultSubscriberConfig(cfg SubscriberConfig) SubscriberConfig {
	if cfg.StartFrom == "" {
		cfg.StartFrom = StartEarliest
	}
	if cfg.AckWait == 0 {
		cfg.AckWait = 30 * time.Second
	}
	if cfg.MaxDeliver == 0 {
		cfg.MaxDeliver = -1
	}
	if cfg.MaxAckPending == 0 {
		cfg.MaxAckPending = 1000
	}
	if cfg.NakDelay == 0 {
		cfg.NakDelay = 100 * time.Millisecond
	}
	if cfg.MaxNakDelay == 0 {
		cfg.MaxNakDelay = 10 * time.Second
	}
	if cfg.FetchBatch == 0 {
		cfg.FetchBatch = min(100, cfg.MaxAckPending)
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Validate reports every invalid field at once.
func (c SubscriberConfig) Validate() error {
	var errs []error
	if c.Durable == "" {
		errs = append(errs, errors.New("Durable: required"))
	} else if !validName(c.Durable) {
		errs = append(errs, fmt.Errorf("Durable: %q may only hold letters, digits, '-' and '_'", c.Durable))
	}
	if c.StartFrom != StartEarliest && c.StartFrom != StartLatest {
		errs = append(errs, fmt.Errorf("StartFrom: %q is not %q or %q", c.StartFrom, StartEarliest, StartLatest))
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("AckWait: must be at least 1s, got %s", c.AckWait))
	}
	if c.MaxDeliver < -1 || c.MaxDeliver == 0 {
		errs = append(errs, fmt.Errorf("MaxDeliver: must be -1 (unlimited) or positive, got %d", c.MaxDeliver))
	}
	if c.MaxAckPending < 1 {
		errs = append(errs, fmt.Errorf("MaxAckPending: must be at least 1, got %d", c.MaxAckPending))
	}
	if c.NakDelay < 0 {
		errs = append(errs, fmt.Errorf("NakDelay: must not be negative, got %s", c.NakDelay))
	}
	if c.MaxNakDelay < c.NakDelay {
		errs = append(errs, fmt.Errorf("MaxNakDelay: %s is below NakDelay %s", c.MaxNakDelay, c.NakDelay))
	}
	if c.FetchBatch < 1 || (c.MaxAckPending > 0 && c.FetchBatch > c.MaxAckPending) {
		errs = append(errs, fmt.Errorf("FetchBatch: must be between 1 and MaxAckPending (%d), got %d", c.MaxAckPending, c.FetchBatch))
	}
	if c.PullMaxBytes < -1 {
		errs = append(errs, fmt.Errorf("PullMaxBytes: must be -1 (count only), 0 (twice the max payload) or positive, got %d", c.PullMaxBytes))
	}
	if c.DrainTimeout <= 0 {
		errs = append(errs, fmt.Errorf("DrainTimeout: must be positive, got %s", c.DrainTimeout))
	}
	return errors.Join(errs...)
}

// nakDelay is the delay before redelivering a message nacked on its
// delivered-th delivery: NakDelay doubling per delivery, capped.
func (c SubscriberConfig) nakDelay(delivered uint64) time.Duration {
	d := c.NakDelay
	for i := uint64(1); i < delivered && d < c.MaxNakDelay; i++ {
		d *= 2
	}
	return min(d, c.MaxNakDelay)
}

func validName(s string) bool {
	for _, r := range s {
		ok := r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z')
		if !ok {
			return false
		}
	}
	return s != ""
}
