// Package service wires the streaming detectors to the bus: one Watermill
// handler per input, each in its own consumer group, publishing findings as
// anomaly events routed by the routing table. A main loads config and calls
// RunDetectors; tests run the very same service in-process.
package service

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/infra/router"
	"github.com/tributary-io/tributary/processors/internal/authdetect"
	"github.com/tributary-io/tributary/processors/internal/taskdetect"
	"github.com/tributary-io/tributary/processors/internal/teledetect"
	"github.com/tributary-io/tributary/schemas"
)

// Config configures the detector service.
type Config struct {
	NATSURL      string
	KafkaBrokers []string
	// NATSOptions carry credentials and TLS (secure.NATS.Options).
	NATSOptions []nats.Option
	// KafkaSecurity is the Kafka connections' TLS and SASL
	// (secure.Kafka.Security), for subscribers, publishers, topic
	// provisioning and lag.
	KafkaSecurity kafkabus.SecurityConfig
	// Group prefixes consumer group and durable names ("detect-auth"…).
	// Run one instance per Group: detector state is per process and the
	// JetStream durables do not shard by entity.
	Group  string
	Source string // CloudEvents source of the anomalies (default //tributary/detect)
	// StartFrom is where a group that has never consumed starts: "earliest"
	// (default: learn from everything the brokers retain) or "latest" (only
	// what is published after it joins, for a detector added to a busy bus).
	// A group that has acked or committed resumes where it left off.
	// "latest" is refused unless AllowLatest is set.
	StartFrom string
	// AllowLatest opts in to StartFrom "latest". No variable sets it: only
	// test and demo harnesses, whose servers hold earlier runs' events, may
	// skip what the brokers retain.
	AllowLatest bool

	// Checkpoints: every CheckpointInterval and at shutdown each detector's
	// state is put in the JetStream key-value bucket StateBucket under
	// "<Group>.<family>.head" and its chunks, and read back at start. Each
	// is compressed and split into chunks of at most CheckpointChunkBytes
	// (default and maximum: the server's max payload less 1 KiB), written
	// so a half-written set is never restored (see checkpointer).
	StateBucket          string
	CheckpointInterval   time.Duration
	CheckpointChunkBytes int

	// HTTPAddr, if set, serves /metrics (Prometheus: messages per handler,
	// findings per kind), /healthz (fails once any handler has stopped, or
	// while the last checkpoint save failed),
	// /readyz and /debug/pprof/. Bind it to loopback or a private interface.
	HTTPAddr string

	// Tracing exports a span per handler attempt, continuing each event's
	// traceparent, when Tracing.Endpoint is set; an anomaly carries the
	// trace of the event that completed it.
	Tracing observe.TraceConfig

	Auth      authdetect.Config
	Task      taskdetect.Config
	Telemetry teledetect.Config

	Routing schemas.RoutingConfig
	// Limits are ingest's: events outside [Now-MaxPast, Now+MaxFuture]
	// are ignored (counted in tributary_detect_ignored_total), and a
	// restored tenant clock beyond Now+MaxFuture is restarted.
	Limits    schemas.Limits
	Router    router.Config
	Provision provision.Config

	// Now is the real clock events are judged against (default time.Now;
	// tests set it).
	Now func() time.Time
}

// WithDefaults fills unset fields.
func (c Config) WithDefaults() Config {
	if c.Group == "" {
		c.Group = "detect"
	}
	if c.Source == "" {
		c.Source = "//tributary/detect"
	}
	if c.StartFrom == "" {
		c.StartFrom = "earliest"
	}
	if c.StateBucket == "" {
		c.StateBucket = "tributary_detector_state"
	}
	if c.CheckpointInterval == 0 {
		c.CheckpointInterval = 10 * time.Second
	}
	if c.Routing.Routes == nil {
		c.Routing = schemas.DefaultRouting()
	}
	if c.Limits == (schemas.Limits{}) {
		c.Limits = schemas.DefaultLimits()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Auth = c.Auth.WithDefaults()
	c.Task = c.Task.WithDefaults()
	c.Telemetry = c.Telemetry.WithDefaults()
	c.Router = c.Router.WithDefaults()
	c.Provision = c.Provision.WithDefaults()
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.NATSURL == "" {
		errs = append(errs, errors.New("detect: NATSURL (-nats-url, TRIBUTARY_NATS_URL) is empty"))
	}
	if len(c.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("detect: KafkaBrokers (-kafka-brokers, TRIBUTARY_KAFKA_BROKERS) is empty"))
	}
	switch {
	case c.StartFrom != "earliest" && c.StartFrom != "latest":
		errs = append(errs, fmt.Errorf("detect: StartFrom (-start-from) %q is not earliest or latest", c.StartFrom))
	case c.StartFrom == "latest" && !c.AllowLatest:
		errs = append(errs, errors.New("detect: StartFrom (-start-from) latest skips every retained event and is for tests only (AllowLatest is not set)"))
	}
	if c.CheckpointChunkBytes < 0 {
		errs = append(errs, fmt.Errorf("detect: CheckpointChunkBytes %d must not be negative", c.CheckpointChunkBytes))
	}
	if c.CheckpointInterval <= 0 {
		errs = append(errs, fmt.Errorf("detect: CheckpointInterval %s must be positive", c.CheckpointInterval))
	}
	for _, err := range []error{c.Auth.Validate(), c.Task.Validate(), c.Telemetry.Validate(), c.Router.Validate(),
		c.Provision.Validate(), c.Limits.Validate(), c.Routing.Validate()} {
		if err != nil {
			errs = append(errs, fmt.Errorf("detect: %w", err))
		}
	}
	return errors.Join(errs...)
}
