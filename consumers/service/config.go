package service

import (
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"

	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/infra/router"
	"github.com/tributary-io/tributary/schemas"
)

// IngestConfig configures the ingest consumer groups.
type IngestConfig struct {
	NATSURL      string
	KafkaBrokers []string
	// NATSOptions carry credentials and TLS (secure.NATS.Options).
	NATSOptions []nats.Option
	// KafkaSecurity is the Kafka connections' TLS and SASL
	// (secure.Kafka.Security), for subscribers, publishers, topic
	// provisioning and lag.
	KafkaSecurity kafkabus.SecurityConfig
	ClickHouse    clickhouse.Config

	// Group prefixes the consumer group (Kafka) and durable (JetStream)
	// names; every instance with the same Group shares the work.
	Group string

	// BatchRows is the most rows of one table per ClickHouse insert.
	BatchRows int
	// FlushInterval is the longest a row waits for its batch to fill.
	FlushInterval time.Duration
	// InFlight is how many un-acked messages one Kafka subscription may
	// have per instance (split over Provision.TopicPartitions); JetStream
	// durables take JetStreamInFlight (their MaxAckPending, across all
	// instances). A
	// message is acked once its row is inserted, so this is what lets many
	// messages share a batch; 1.4×BatchRows (the default) lets the next
	// batch fill while one is sent. An in-flight message holds no goroutine (the
	// event subscriptions run as ingest.Pipe; the Kafka subscriber follows
	// acks with one goroutine per partition), only its payload and
	// bookkeeping: measured, ~100 MiB live heap with 10,000 in flight on
	// the metrics topic, 140-160 MiB RSS in make bench-ingest.
	InFlight int
	// JetStreamInFlight is InFlight for JetStream durables. A JetStream
	// message in flight holds more than a Kafka one (the client's parsed
	// headers beside ours): in make bench-ingest's all-families job,
	// interleaved runs at 10,000 were no faster than at 5,000 and peaked
	// at 337-373 MiB against 274-302. Default: 5,000, or InFlight when
	// that is set.
	JetStreamInFlight int
	// BufferRows bounds the rows one table's writer holds (queued or being
	// inserted); a full buffer blocks handlers, which stops consumption.
	BufferRows int
	// MemoryLimitMiB is the Go heap's soft limit (runtime/debug.SetMemoryLimit),
	// set by the command: near it the collector runs more often instead of
	// letting the heap double past its live size (GOGC's default). A
	// backlog fills every in-flight window at once: ~90 MiB live at the
	// default windows on one busy topic, so up to ~220 MiB RSS without a
	// limit, 182 MiB with 170, at the same speed (make bench-ingest). 0:
	// the command's default (180, unless GOMEMLIMIT is set); -1: none.
	// Raise it with the windows: it is soft, a live heap above it makes
	// the collector busy, never fails.
	MemoryLimitMiB int

	// ShutdownTimeout bounds the drain after ctx ends: in-flight messages
	// finish their insert and are acked, then everything closes. What is
	// still un-acked after it is redelivered to the next instance.
	ShutdownTimeout time.Duration
	// EventRetentionDays and AnomalyRetentionDays are how long current
	// servers keep event rows and anomalies (migration 015's TTL), set when
	// that step is applied; defaults 30 and 180. 18.16 has no TTL.
	EventRetentionDays, AnomalyRetentionDays int

	// StatsInterval is how often a stats line is logged; negative: never.
	StatsInterval time.Duration
	// HTTPAddr, if set, serves /metrics (Prometheus), /healthz (fails once
	// any handler has stopped), /readyz (every handler subscribed),
	// /debug/ingest (JSON stats) and /debug/pprof/. Bind it to loopback or a
	// private interface.
	HTTPAddr string
	// ProfileContention turns on the block and mutex profiles under
	// HTTPAddr's /debug/pprof/ (and /debug/pprof/trace), to see what the
	// ingest waits on; a small cost on every wait, so off by default.
	ProfileContention bool

	// Tracing exports a span per handler attempt and per ClickHouse insert,
	// continuing each event's traceparent, when Tracing.Endpoint is set.
	Tracing observe.TraceConfig
	// TracerProvider, if set, is used instead of one built from Tracing
	// (tests record spans in memory).
	TracerProvider trace.TracerProvider

	// StartFrom is where a group that has never consumed starts: "earliest"
	// (default: everything the broker retains) or "latest" (only what is
	// published after it joins; for tests on shared servers, and refused
	// unless AllowLatest is set). A group that has committed or acked
	// resumes where it left off either way.
	StartFrom string
	// AllowLatest opts in to StartFrom "latest". No flag or variable sets
	// it: only test and demo harnesses, whose servers hold earlier runs'
	// events, may skip what the brokers retain.
	AllowLatest bool

	// KafkaSessionTimeout and AckWait bound how long a crashed instance
	// holds its partitions (Kafka) or its un-acked messages (JetStream)
	// before the group takes them over: the recovery time after a crash.
	// Default 10s each (the transports' own default is 30s). Slow inserts
	// are safe either way: the JetStream subscriber reports in-flight
	// messages as in progress, and Kafka heartbeats run apart from handlers.
	KafkaSessionTimeout time.Duration
	AckWait             time.Duration

	// PoisonMaxDeliveries bounds how often a poison message is delivered
	// while its dead-letter publish fails for a reason that may pass;
	// then it is stored in dead_letters directly (truncated) and acked. A
	// publish refused for the message itself (too large) takes that path
	// at once. Errors about a server's state are never bounded. Default 5.
	PoisonMaxDeliveries int

	Routing   schemas.RoutingConfig
	Limits    schemas.Limits
	Router    router.Config
	Provision provision.Config
}

// maxPastLimit caps Limits.MaxPast for ingest: tables are partitioned by
// day and ClickHouse refuses an INSERT touching more than 100 partitions
// (max_partitions_per_insert_block), so a batch must span few days.
const maxPastLimit = 30 * 24 * time.Hour

// WithDefaults fills unset fields.
func (c IngestConfig) WithDefaults() IngestConfig {
	if c.Group == "" {
		c.Group = "ingest"
	}
	if c.BatchRows == 0 {
		// Fewer, larger inserts: ClickHouse merges fewer, larger parts.
		// Its CPU per row (make bench-ingest, Kafka metrics, interleaved
		// runs) is ~25µs at 1,000 rows, 5-10µs at 5,000 and 2.3-3.7µs at
		// ~18,000 (each row merged ~3.6 times during the run at 4,800-row
		// inserts). Batches still flush by FlushInterval when the rate
		// is lower.
		c.BatchRows = 20_000
	}
	if c.FlushInterval == 0 {
		// Long enough for a batch to fill at ~50k rows/s; freshness p99 at
		// 20k events/s measured ~0.5s (0.3s at 200ms with 5,000-row
		// batches).
		c.FlushInterval = 400 * time.Millisecond
	}
	if c.JetStreamInFlight == 0 {
		c.JetStreamInFlight = c.InFlight
		if c.InFlight == 0 {
			c.JetStreamInFlight = 5_000
		}
	}
	if c.InFlight == 0 {
		// One batch filling while the last one's insert (100-200ms at
		// these sizes) finishes: 1.4 batches measured as fast as 2 with
		// ~20% less heap.
		c.InFlight = c.BatchRows * 7 / 5
	}
	if c.BufferRows == 0 {
		c.BufferRows = max(20_000, 2*c.BatchRows)
	}
	if c.ShutdownTimeout == 0 {
		c.ShutdownTimeout = 30 * time.Second
	}
	if c.EventRetentionDays == 0 {
		c.EventRetentionDays = 30
	}
	if c.AnomalyRetentionDays == 0 {
		c.AnomalyRetentionDays = 180
	}
	if c.StartFrom == "" {
		c.StartFrom = "earliest"
	}
	if c.KafkaSessionTimeout == 0 {
		c.KafkaSessionTimeout = 10 * time.Second
	}
	if c.AckWait == 0 {
		c.AckWait = 10 * time.Second
	}
	if c.PoisonMaxDeliveries == 0 {
		c.PoisonMaxDeliveries = 5
	}
	if c.StatsInterval == 0 {
		c.StatsInterval = 30 * time.Second
	}
	if c.Routing.Routes == nil {
		c.Routing = schemas.DefaultRouting()
	}
	if c.Limits == (schemas.Limits{}) {
		c.Limits = schemas.DefaultLimits()
	}
	c.ClickHouse = c.ClickHouse.Defaults()
	if c.Router.CloseTimeout == 0 {
		c.Router.CloseTimeout = c.ShutdownTimeout
	}
	c.Router = c.Router.WithDefaults()
	c.Provision = c.Provision.WithDefaults()
	return c
}

// Validate reports every problem at once.
func (c IngestConfig) Validate() error {
	var errs []error
	// Each names the field and the tributary-ingest flag that sets it.
	if c.NATSURL == "" {
		errs = append(errs, errors.New("ingest: NATSURL (-nats-url, TRIBUTARY_NATS_URL) is empty"))
	}
	if len(c.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("ingest: KafkaBrokers (-kafka-brokers, TRIBUTARY_KAFKA_BROKERS) is empty"))
	}
	positive := func(field, flag string, ok bool, v any) {
		if !ok {
			errs = append(errs, fmt.Errorf("ingest: %s (%s) must be positive, got %v", field, flag, v))
		}
	}
	positive("BatchRows", "-batch-rows", c.BatchRows >= 1, c.BatchRows)
	positive("InFlight", "-in-flight", c.InFlight >= 1, c.InFlight)
	positive("JetStreamInFlight", "-jetstream-in-flight", c.JetStreamInFlight >= 1, c.JetStreamInFlight)
	positive("FlushInterval", "-flush-interval", c.FlushInterval > 0, c.FlushInterval)
	positive("EventRetentionDays", "-event-retention-days", c.EventRetentionDays >= 1, c.EventRetentionDays)
	positive("AnomalyRetentionDays", "-anomaly-retention-days", c.AnomalyRetentionDays >= 1, c.AnomalyRetentionDays)
	positive("ShutdownTimeout", "-shutdown-timeout", c.ShutdownTimeout > 0, c.ShutdownTimeout)
	if c.MemoryLimitMiB < -1 {
		errs = append(errs, fmt.Errorf("ingest: MemoryLimitMiB (-memory-limit-mib) must be -1 (none), 0 (default) or positive, got %d", c.MemoryLimitMiB))
	}
	if c.BufferRows < c.BatchRows {
		errs = append(errs, fmt.Errorf("ingest: BufferRows (-buffer-rows) %d must be at least BatchRows (-batch-rows) %d", c.BufferRows, c.BatchRows))
	}
	switch {
	case c.StartFrom != "earliest" && c.StartFrom != "latest":
		errs = append(errs, fmt.Errorf("ingest: StartFrom (-start-from) %q is not earliest or latest", c.StartFrom))
	case c.StartFrom == "latest" && !c.AllowLatest:
		errs = append(errs, errors.New("ingest: StartFrom latest (-start-from) skips every retained event and is for tests only (AllowLatest is not set)"))
	}
	if c.KafkaSessionTimeout < time.Second {
		errs = append(errs, fmt.Errorf("ingest: KafkaSessionTimeout (-kafka-session-timeout) %s must be at least 1s", c.KafkaSessionTimeout))
	}
	if c.AckWait < time.Second {
		errs = append(errs, fmt.Errorf("ingest: AckWait (-ack-wait) %s must be at least 1s", c.AckWait))
	}
	if c.PoisonMaxDeliveries < 1 {
		errs = append(errs, fmt.Errorf("ingest: PoisonMaxDeliveries (-poison-max-deliveries) %d must be at least 1", c.PoisonMaxDeliveries))
	}
	if c.Limits.MaxPast > maxPastLimit {
		errs = append(errs, fmt.Errorf("ingest: Limits.MaxPast %s exceeds %s: one insert would span too many daily partitions", c.Limits.MaxPast, maxPastLimit))
	}
	for _, err := range []error{c.ClickHouse.Validate(), c.Router.Validate(), c.Provision.Validate(), c.Limits.Validate(), c.Routing.Validate()} {
		if err != nil {
			errs = append(errs, fmt.Errorf("ingest: %w", err))
		}
	}
	return errors.Join(errs...)
}
