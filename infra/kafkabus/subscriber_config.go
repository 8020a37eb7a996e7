package kafkabus

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// StartOffset says where a consumer group with no committed offset for a
// partition starts reading.
type StartOffset string

const (
	StartEarliest StartOffset = "earliest"
	StartLatest   StartOffset = "latest"
)

// SubscriberConfig configures a Subscriber. Zero fields take the defaults of
// DefaultSubscriberConfig when passed through NewSubscriber.
type SubscriberConfig struct {
	Brokers []string // host:port, at least one
	// GroupID is the Kafka consumer group: instances with the same GroupID
	// share the partitions of a topic. Required.
	GroupID string
	// StartFrom is where a group that never consumed the topic starts;
	// default StartEarliest. StartLatest is fixed (committed at the topic's
	// end) inside Subscribe and needs AllowLatest. Whatever StartFrom says,
	// a partition with no committed offset later on (one added to the
	// topic after Subscribe) and a committed offset that retention deleted
	// start at the earliest retained record: "latest" there would skip
	// records nobody has read.
	StartFrom StartOffset
	// AllowLatest opts in to StartFrom latest. Only test and demo harnesses
	// that share brokers with earlier runs set it: in production "latest"
	// silently skips what the brokers retain, so Validate refuses it
	// without this.
	AllowLatest bool
	// MaxInFlightPerPartition is how many messages of one partition may be
	// out past the committed watermark: the oldest un-acked one and those
	// after it, acked or not. It bounds what a rebalance redelivers. 1 (the
	// default) is strict order: the next message is handed out only after
	// the previous one is acked. A larger window pipelines (a batching sink)
	// at the cost of order on redelivery; one slow message stops its
	// partition once the window behind it is full.
	MaxInFlightPerPartition int
	// CommitInterval is how often the acked watermark is committed (default 1s).
	// A generation end and Close always commit.
	CommitInterval time.Duration
	// DrainTimeout bounds the wait for in-flight messages to be acked when a
	// partition is released (rebalance or Close); default 10s. It must stay
	// below RebalanceTimeout, or the coordinator evicts us before the commit.
	DrainTimeout time.Duration
	// NackDelay is the pause before a nacked message is handed out again
	// (default 100ms). It keeps a handler that always fails from spinning;
	// real backoff belongs in the router's Retry middleware.
	NackDelay time.Duration

	HeartbeatInterval time.Duration // default 3s
	SessionTimeout    time.Duration // default 30s
	RebalanceTimeout  time.Duration // default 30s
	// JoinBackoff is the pause before rejoining the group after a failed
	// generation (default 500ms; kafka-go's own is 5s). The usual failure
	// is transient: "coordinator not available" while a fresh broker
	// creates __consumer_offsets or a coordinator moves, which clears in
	// well under a second, and with 5s every new group on a fresh broker
	// started 5s late.
	JoinBackoff time.Duration
	// PartitionWatchInterval is how often the group leader looks for
	// partitions added to the topic (default 5s).
	PartitionWatchInterval time.Duration
	// MaxWait bounds one fetch long-poll (default 500ms).
	MaxWait time.Duration
	// MaxBytes caps one fetch response (default 10 MiB).
	MaxBytes int

	Security SecurityConfig
	Logger   *slog.Logger // default: discard
}

// DefaultSubscriberConfig returns cfg with zero fields set to their defaults.
func DefaultSubscriberConfig(cfg SubscriberConfig) SubscriberConfig {
	if cfg.StartFrom == "" {
		cfg.StartFrom = StartEarliest
	}
	if cfg.MaxInFlightPerPartition == 0 {
		cfg.MaxInFlightPerPartition = 1
	}
	if cfg.CommitInterval == 0 {
		cfg.CommitInterval = time.Second
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 10 * time.Second
	}
	if cfg.NackDelay == 0 {
		cfg.NackDelay = 100 * time.Millisecond
	}
	if cfg.HeartbeatInterval == 0 {
		cfg.HeartbeatInterval = 3 * time.Second
	}
	if cfg.SessionTimeout == 0 {
		cfg.SessionTimeout = 30 * time.Second
	}
	if cfg.RebalanceTimeout == 0 {
		cfg.RebalanceTimeout = 30 * time.Second
	}
	if cfg.JoinBackoff == 0 {
		cfg.JoinBackoff = 500 * time.Millisecond
	}
	if cfg.PartitionWatchInterval == 0 {
		cfg.PartitionWatchInterval = 5 * time.Second
	}
	if cfg.MaxWait == 0 {
		cfg.MaxWait = 500 * time.Millisecond
	}
	if cfg.MaxBytes == 0 {
		cfg.MaxBytes = 10 << 20
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return cfg
}

// Validate reports every invalid field at once.
func (c SubscriberConfig) Validate() error {
	var errs []error
	errs = append(errs, validateBrokers(c.Brokers))
	if c.GroupID == "" {
		errs = append(errs, errors.New("GroupID: required"))
	}
	switch {
	case c.StartFrom != StartEarliest && c.StartFrom != StartLatest:
		errs = append(errs, fmt.Errorf("StartFrom: %q is not %q or %q", c.StartFrom, StartEarliest, StartLatest))
	case c.StartFrom == StartLatest && !c.AllowLatest:
		errs = append(errs, fmt.Errorf("StartFrom: %q skips every retained record and is for tests only (AllowLatest is not set)", StartLatest))
	}
	if c.MaxInFlightPerPartition < 1 {
		errs = append(errs, fmt.Errorf("MaxInFlightPerPartition: must be at least 1, got %d", c.MaxInFlightPerPartition))
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"CommitInterval", c.CommitInterval},
		{"DrainTimeout", c.DrainTimeout},
		{"HeartbeatInterval", c.HeartbeatInterval},
		{"SessionTimeout", c.SessionTimeout},
		{"RebalanceTimeout", c.RebalanceTimeout},
		{"MaxWait", c.MaxWait},
		{"PartitionWatchInterval", c.PartitionWatchInterval},
		{"JoinBackoff", c.JoinBackoff},
	}
	for _, p := range positive {
		if p.d <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", p.name, p.d))
		}
	}
	if c.NackDelay < 0 {
		errs = append(errs, fmt.Errorf("NackDelay: must not be negative, got %s", c.NackDelay))
	}
	if c.DrainTimeout > 0 && c.RebalanceTimeout > 0 && c.DrainTimeout >= c.RebalanceTimeout {
		errs = append(errs, fmt.Errorf("DrainTimeout: %s must be below RebalanceTimeout %s", c.DrainTimeout, c.RebalanceTimeout))
	}
	if c.HeartbeatInterval > 0 && c.SessionTimeout > 0 && c.HeartbeatInterval >= c.SessionTimeout {
		errs = append(errs, fmt.Errorf("HeartbeatInterval: %s must be below SessionTimeout %s", c.HeartbeatInterval, c.SessionTimeout))
	}
	if c.MaxBytes < 1 {
		errs = append(errs, fmt.Errorf("MaxBytes: must be positive, got %d", c.MaxBytes))
	}
	errs = append(errs, c.Security.validate())
	return errors.Join(errs...)
}
