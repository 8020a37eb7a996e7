// Package service wires consumer groups to the bus and ClickHouse. Each
// service is Run(ctx, cfg, log): a main loads config and calls it, and tests
// run the very same service in-process.
package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/consumers/internal/ingest"
	"github.com/tributary-io/tributary/infra/bus/jetstream"
	"github.com/tributary-io/tributary/infra/bus/kafka"
	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/infra/router"
	"github.com/tributary-io/tributary/schemas"
)

// IngestConfig configures the ingest consumer groups.
type IngestConfig struct {
	NATSURL      string
	KafkaBrokers []string
	ClickHouse   clickhouse.Config

	// Group prefixes the consumer group (Kafka) and durable (JetStream)
	// names; every instance with the same Group shares the work.
	Group string

	// Batch sizes the ClickHouse writes, per table.
	BatchRows     int
	FlushInterval time.Duration
	// InFlight is how many un-acked messages one Kafka partition or one
	// JetStream consumer may have, so rows of many messages share a batch.
	InFlight int

	Routing   schemas.RoutingConfig
	Limits    schemas.Limits
	Router    router.Config
	Provision provision.Config
}

// WithDefaults fills unset fields.
func (c IngestConfig) WithDefaults() IngestConfig {
	if c.Group == "" {
		c.Group = "ingest"
	}
	if c.BatchRows == 0 {
		c.BatchRows = 5000
	}
	if c.FlushInterval == 0 {
		c.FlushInterval = 200 * time.Millisecond
	}
	if c.InFlight == 0 {
		c.InFlight = 1000
	}
	if c.Routing.Routes == nil {
		c.Routing = schemas.DefaultRouting()
	}
	if c.Limits == (schemas.Limits{}) {
		c.Limits = schemas.DefaultLimits()
	}
	c.ClickHouse = c.ClickHouse.Defaults()
	c.Router = c.Router.WithDefaults()
	c.Provision = c.Provision.WithDefaults()
	return c
}

// Validate reports every problem at once.
func (c IngestConfig) Validate() error {
	var errs []error
	if c.NATSURL == "" {
		errs = append(errs, errors.New("ingest: NATSURL is empty"))
	}
	if len(c.KafkaBrokers) == 0 {
		errs = append(errs, errors.New("ingest: KafkaBrokers is empty"))
	}
	if c.BatchRows < 1 || c.InFlight < 1 || c.FlushInterval <= 0 {
		errs = append(errs, fmt.Errorf("ingest: BatchRows %d, InFlight %d and FlushInterval %s must be positive", c.BatchRows, c.InFlight, c.FlushInterval))
	}
	for _, err := range []error{c.ClickHouse.Validate(), c.Router.Validate(), c.Provision.Validate(), c.Limits.Validate(), c.Routing.Validate()} {
		if err != nil {
			errs = append(errs, fmt.Errorf("ingest: %w", err))
		}
	}
	return errors.Join(errs...)
}

// table is one ClickHouse table fed by one subscription.
type table struct {
	name      string
	columns   []string
	values    ingest.ValuesFunc
	transport schemas.Transport
	family    schemas.Family
	// topic is the Kafka topic or the JetStream subject filter.
	topic string
}

// tables is what the ingest groups consume. Auth arrives on JetStream,
// metrics on Kafka (the routing table's defaults).
func tables() []table {
	return []table{
		{name: ingest.AuthTable, columns: ingest.AuthColumns, values: ingest.AuthValues,
			transport: schemas.TransportJetStream, family: schemas.FamilyAuth, topic: "auth.>"},
		{name: ingest.MetricsTable, columns: ingest.MetricsColumns, values: ingest.MetricValues,
			transport: schemas.TransportKafka, family: schemas.FamilyTelemetry, topic: "telemetry.metrics"},
	}
}

// RunIngest runs the ingest consumer groups until ctx ends. ready, if not
// nil, is closed once every handler is subscribed.
func RunIngest(ctx context.Context, cfg IngestConfig, log *slog.Logger, ready chan<- struct{}) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var closers []func() error
	defer func() {
		for i := len(closers) - 1; i >= 0; i-- {
			if err := closers[i](); err != nil {
				log.Warn("ingest: close", "err", err)
			}
		}
	}()

	conn, err := clickhouse.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, conn.Close)
	if _, err := clickhouse.Migrate(ctx, conn, log); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	nc, err := nats.Connect(cfg.NATSURL, nats.Name("tributary-"+cfg.Group), nats.MaxReconnects(-1))
	if err != nil {
		return fmt.Errorf("ingest: connect nats %s: %w", cfg.NATSURL, err)
	}
	closers = append(closers, func() error { nc.Close(); return nil })
	js, err := natsjs.New(nc)
	if err != nil {
		return fmt.Errorf("ingest: jetstream: %w", err)
	}
	routes, err := schemas.NewRoutingTable(cfg.Routing)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if err := provision.Apply(ctx, cfg.Provision, js, cfg.KafkaBrokers, routes.Provisioning()); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	jsPub, err := jetstream.NewPublisher(js, jetstream.PublisherConfig{Logger: log})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, jsPub.Close)
	kafkaPub, err := kafka.NewPublisher(kafka.PublisherConfig{Brokers: cfg.KafkaBrokers, Logger: log})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, kafkaPub.Close)
	dlqPubs := map[schemas.Transport]message.Publisher{schemas.TransportJetStream: jsPub, schemas.TransportKafka: kafkaPub}

	r, err := router.New(cfg.Router, log)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	for _, t := range tables() {
		w, err := clickhouse.NewBatchWriter(conn, clickhouse.BatchConfig{
			Table: t.name, Columns: t.columns, MaxRows: cfg.BatchRows, FlushInterval: cfg.FlushInterval,
		}, log)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		w.Start(ctx)
		// Closed after the router, so in-flight handlers finish their batch.
		closers = append(closers, func() error {
			cctx, cancel := context.WithTimeout(context.Background(), cfg.Router.CloseTimeout)
			defer cancel()
			return w.Close(cctx)
		})
		sub, err := subscriber(cfg, js, t, log)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		dlq, err := routes.DeadLetterFor(t.family, t.transport)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		poison, err := router.Poison(dlqPubs[t.transport], dlqTopic(dlq), ingest.IsPoison)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		h := r.AddConsumerHandler(cfg.Group+"-"+t.name, t.topic, sub, ingest.NewSink(t.name, w, t.values, cfg.Limits).Handle)
		h.AddMiddleware(poison)
	}
	if ready != nil {
		go func() {
			select {
			case <-r.Running():
				close(ready)
			case <-ctx.Done():
			}
		}()
	}
	log.Info("ingest: running", "group", cfg.Group)
	if err := r.Run(ctx); err != nil {
		return fmt.Errorf("ingest: router: %w", err)
	}
	return nil
}

func subscriber(cfg IngestConfig, js natsjs.JetStream, t table, log *slog.Logger) (message.Subscriber, error) {
	name := cfg.Group + "-" + t.name
	switch t.transport {
	case schemas.TransportJetStream:
		return jetstream.NewSubscriber(js, jetstream.SubscriberConfig{
			Durable: name, MaxAckPending: cfg.InFlight, FetchBatch: min(cfg.InFlight, 500), Logger: log,
		})
	case schemas.TransportKafka:
		return kafka.NewSubscriber(kafka.SubscriberConfig{
			Brokers: cfg.KafkaBrokers, GroupID: name, MaxInFlightPerPartition: cfg.InFlight, Logger: log,
		})
	default:
		return nil, fmt.Errorf("table %s: unknown transport %q", t.name, t.transport)
	}
}

func dlqTopic(d schemas.Destination) string {
	if d.Transport == schemas.TransportJetStream {
		return d.Subject
	}
	return d.Topic
}
