// Package router builds Watermill routers with the platform's standard
// middleware stack, so every consumer group recovers, retries and
// dead-letters the same way.
package router

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/tributary-io/tributary/infra/observe"
)

// Config tunes the stack. Zero values take the defaults.
type Config struct {
	// RetryMax is how many times a failing handler is retried in place
	// before the message is nacked for redelivery.
	RetryMax int
	// RetryInitial and RetryMaxInterval bound the exponential backoff.
	RetryInitial     time.Duration
	RetryMaxInterval time.Duration
	// HandlerTimeout cancels a handler's context; 0 means none.
	HandlerTimeout time.Duration
	// CloseTimeout bounds how long Close waits for running handlers.
	CloseTimeout time.Duration
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.RetryMax == 0 {
		c.RetryMax = 5
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = 100 * time.Millisecond
	}
	if c.RetryMaxInterval == 0 {
		c.RetryMaxInterval = 5 * time.Second
	}
	if c.CloseTimeout == 0 {
		c.CloseTimeout = 30 * time.Second
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.RetryMax < 0 {
		errs = append(errs, fmt.Errorf("router: RetryMax %d is negative", c.RetryMax))
	}
	if c.RetryInitial < 0 || c.RetryMaxInterval < c.RetryInitial {
		errs = append(errs, fmt.Errorf("router: RetryInitial %s and RetryMaxInterval %s must satisfy 0 <= initial <= max", c.RetryInitial, c.RetryMaxInterval))
	}
	if c.HandlerTimeout < 0 {
		errs = append(errs, fmt.Errorf("router: HandlerTimeout %s is negative", c.HandlerTimeout))
	}
	if c.CloseTimeout <= 0 {
		errs = append(errs, fmt.Errorf("router: CloseTimeout %s must be positive", c.CloseTimeout))
	}
	return errors.Join(errs...)
}

// New returns a router whose every handler runs inside, outermost first:
// recoverer (a panic becomes an error), correlation id, retry with backoff,
// and the optional timeout. Handler-level middleware (DeadLetter) runs
// inside these, so it sees each attempt's error first.
func New(cfg Config, log *slog.Logger) (*message.Router, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	// Watermill's lifecycle lines (adding, starting, closing each handler:
	// two dozen at start) are debug detail here, and a retry that may well
	// succeed is a warning, not an error: a handler's final failure is
	// logged as an error by whoever handles it.
	wlog := watermill.NewSlogLoggerWithLevelMapping(
		observe.Relevel(log, map[string]slog.Level{"Error occurred, retrying": slog.LevelWarn}),
		map[slog.Level]slog.Level{slog.LevelInfo: slog.LevelDebug})
	r, err := message.NewRouter(message.RouterConfig{CloseTimeout: cfg.CloseTimeout}, wlog)
	if err != nil {
		return nil, fmt.Errorf("new router: %w", err)
	}
	r.AddMiddleware(
		middleware.Recoverer,
		middleware.CorrelationID,
		middleware.Retry{
			MaxRetries:      cfg.RetryMax,
			InitialInterval: cfg.RetryInitial,
			MaxInterval:     cfg.RetryMaxInterval,
			Multiplier:      2,
			Logger:          wlog,
		}.Middleware,
	)
	if cfg.HandlerTimeout > 0 {
		r.AddMiddleware(middleware.Timeout(cfg.HandlerTimeout))
	}
	return r, nil
}
