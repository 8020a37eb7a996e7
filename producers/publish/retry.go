package publish

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/schemas"
)

// RetryConfig bounds how hard Publish tries one destination before it gives
// up with ErrUnavailable. Zero fields take the defaults of DefaultRetry.
type RetryConfig struct {
	// MaxAttempts counts the first try; 1 disables retries (default 6).
	MaxAttempts int
	// InitialBackoff is the wait before the second attempt; it doubles per
	// attempt up to MaxBackoff, each wait drawn from [d/2, d) so a fleet of
	// producers does not retry in lockstep (defaults 100ms and 2s).
	InitialBackoff time.Duration
	MaxBackoff     time.Duration
	// MaxElapsed is the budget for one destination, attempts and waits
	// included (default 20s): no new attempt starts after it.
	MaxElapsed time.Duration
	// AttemptTimeout bounds one attempt on transports that take a context
	// (both of ours do; default 10s).
	AttemptTimeout time.Duration
}

// DefaultRetry returns r with zero fields set to their defaults.
func DefaultRetry(r RetryConfig) RetryConfig {
	if r.MaxAttempts == 0 {
		r.MaxAttempts = 6
	}
	if r.InitialBackoff == 0 {
		r.InitialBackoff = 100 * time.Millisecond
	}
	if r.MaxBackoff == 0 {
		r.MaxBackoff = 2 * time.Second
	}
	if r.MaxElapsed == 0 {
		r.MaxElapsed = 20 * time.Second
	}
	if r.AttemptTimeout == 0 {
		r.AttemptTimeout = 10 * time.Second
	}
	return r
}

// Validate reports every problem at once.
func (r RetryConfig) Validate() error {
	var errs []error
	if r.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("Retry.MaxAttempts: must be at least 1, got %d", r.MaxAttempts))
	}
	if r.InitialBackoff <= 0 {
		errs = append(errs, fmt.Errorf("Retry.InitialBackoff: must be positive, got %s", r.InitialBackoff))
	}
	if r.MaxBackoff < r.InitialBackoff {
		errs = append(errs, fmt.Errorf("Retry.MaxBackoff: %s is below InitialBackoff %s", r.MaxBackoff, r.InitialBackoff))
	}
	if r.MaxElapsed <= 0 {
		errs = append(errs, fmt.Errorf("Retry.MaxElapsed: must be positive, got %s", r.MaxElapsed))
	}
	if r.AttemptTimeout <= 0 {
		errs = append(errs, fmt.Errorf("Retry.AttemptTimeout: must be positive, got %s", r.AttemptTimeout))
	}
	return errors.Join(errs...)
}

// backoff is the wait after the given failed attempt (1-based), before jitter.
func (r RetryConfig) backoff(attempt int) time.Duration {
	d := r.InitialBackoff
	for i := 1; i < attempt && d < r.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, r.MaxBackoff)
}

// equalJitter draws from [d/2, d): never less than half the backoff, so a
// retry storm still spreads out, never more, so the budget math holds.
func equalJitter(d time.Duration) time.Duration {
	if d < 2 {
		return d
	}
	return d/2 + rand.N(d/2)
}

// ContextPublisher is implemented by transports whose publish honours a
// deadline (infra/kafkabus and infra/natsbus publishers do); the
// client then bounds each attempt with RetryConfig.AttemptTimeout.
type ContextPublisher interface {
	PublishContext(ctx context.Context, topic string, msgs ...*message.Message) error
}

// deliver publishes msgs to one destination, retrying transient failures
// within the retry budget. Retrying is safe: JetStream drops a duplicate by
// its Nats-Msg-Id (the event id) and consumers deduplicate Kafka records by
// event id.
func (c *Client) deliver(ctx context.Context, tr schemas.Transport, topic string, msgs []*message.Message) error {
	t, ok := c.transports[tr]
	if !ok {
		return fmt.Errorf("%w: no %s transport configured", ErrNoRoute, tr)
	}
	r := c.cfg.Retry
	start := c.now()
	for attempt := 1; ; attempt++ {
		err := c.attempt(ctx, t, topic, msgs)
		if err == nil {
			// The transport's own latency: this call, not the time the
			// messages waited before it.
			tm := c.metrics.transport(tr)
			d := c.now().Sub(start)
			for range msgs {
				tm.latency.Observe(d)
			}
			return nil
		}
		if perr := permanent(err); perr != nil {
			return perr
		}
		if ctx.Err() != nil {
			return fmt.Errorf("%w (after %d attempts, last error: %w)", ctx.Err(), attempt, err)
		}
		wait := c.jitter(r.backoff(attempt))
		elapsed := c.now().Sub(start)
		if attempt >= r.MaxAttempts || elapsed+wait >= r.MaxElapsed {
			return fmt.Errorf("%w: gave up after %d attempts in %s: %w", ErrUnavailable, attempt, elapsed.Round(time.Millisecond), err)
		}
		c.metrics.transport(tr).retries.Add(uint64(len(msgs)))
		c.logger.Warn("publish failed, retrying", "transport", tr, "topic", topic,
			"messages", len(msgs), "attempt", attempt, "wait", wait, "error", err)
		if serr := c.sleep(ctx, wait); serr != nil {
			return fmt.Errorf("%w (after %d attempts, last error: %w)", serr, attempt, err)
		}
	}
}

func (c *Client) attempt(ctx context.Context, t Transport, topic string, msgs []*message.Message) error {
	cp, ok := t.(ContextPublisher)
	if !ok {
		return t.Publish(topic, msgs...)
	}
	actx, cancel := context.WithTimeout(ctx, c.cfg.Retry.AttemptTimeout)
	defer cancel()
	return cp.PublishContext(actx, topic, msgs...)
}

// sleepCtx waits d or until ctx ends.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
