package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/daemon"
	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/infra/router"
	"github.com/tributary-io/tributary/processors/internal/authdetect"
	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/processors/internal/taskdetect"
	"github.com/tributary-io/tributary/processors/internal/teledetect"
	"github.com/tributary-io/tributary/schemas"
)

// input is one subscription feeding a family's detector.
type input struct {
	transport schemas.Transport
	topic     string // JetStream subject filter or Kafka topic
}

// family is one detector, its inputs and its outbox. The mutex serialises
// Observe (handlers run concurrently) and keeps findings in order.
type family struct {
	name   string
	det    stream.Detector
	inputs []input

	mu     sync.Mutex
	outbox []schemas.Envelope // built once, so a retried publish keeps its id
	kinds  []string           // the outbox's anomaly kinds, for metrics
}

func families(cfg Config) ([]*family, error) {
	a, err := authdetect.New(cfg.Auth)
	if err != nil {
		return nil, err
	}
	t, err := taskdetect.New(cfg.Task)
	if err != nil {
		return nil, err
	}
	m, err := teledetect.New(cfg.Telemetry)
	if err != nil {
		return nil, err
	}
	js, kf := schemas.TransportJetStream, schemas.TransportKafka
	return []*family{
		{name: "auth", det: a, inputs: []input{{js, "auth.>"}}},
		{name: "task", det: t, inputs: []input{{js, "task.>"}}},
		{name: "telemetry", det: m, inputs: []input{{kf, "telemetry.metrics"}, {kf, "telemetry.logs"}, {kf, "telemetry.heartbeats"}}},
	}, nil
}

// RunDetectors runs the detectors until ctx ends. ready, if not nil, is
// closed once every handler is subscribed.
func RunDetectors(ctx context.Context, cfg Config, log *slog.Logger, ready chan<- struct{}) error {
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
				log.Warn("detect: close", "err", err)
			}
		}
	}()
	routes, err := schemas.NewRoutingTable(cfg.Routing)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	bus, err := provision.Connect(ctx, cfg.Provision, "tributary-"+cfg.Group, cfg.NATSURL, cfg.KafkaBrokers, routes)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	closers = append(closers, bus.Close)
	js := bus.JS
	jsPub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{Logger: log})
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	closers = append(closers, jsPub.Close)
	kafkaPub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: cfg.KafkaBrokers, Logger: log})
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	closers = append(closers, kafkaPub.Close)
	out := &publisher{routes: routes, pubs: map[schemas.Transport]message.Publisher{
		schemas.TransportJetStream: jsPub, schemas.TransportKafka: kafkaPub}}

	fams, err := families(cfg)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	cp, err := newCheckpointer(ctx, js, cfg, fams, log)
	if err != nil {
		return err
	}
	if err := cp.restore(ctx); err != nil {
		return err
	}
	// Closers unwind in reverse: the final checkpoint runs after the router
	// stopped and the subscribers closed, before the NATS connection goes.
	closers = append(closers, cp.final)

	r, err := router.New(cfg.Router, log)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	met := observe.New("detect")
	health := daemon.NewHealth(r)
	for _, f := range fams {
		for _, in := range f.inputs {
			name := cfg.Group + "-" + f.name
			sub, err := subscriber(cfg, js, in, name, log)
			if err != nil {
				return fmt.Errorf("detect: %w", err)
			}
			closers = append(closers, sub.Close)
			hname := f.name + "-" + sanitize(in.topic)
			h := r.AddConsumerHandler(name+"-"+sanitize(in.topic), in.topic, sub, handler(f, cfg, out, met, log))
			h.AddMiddleware(met.Middleware(hname, nil))
			health.Track(hname, h)
		}
	}
	stopHTTP, err := daemon.Endpoint{Addr: cfg.HTTPAddr, Metrics: met, Health: health}.Serve(log)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	closers = append(closers, stopHTTP)
	go cp.loop(ctx)
	if ready != nil {
		go func() {
			select {
			case <-r.Running():
				close(ready)
			case <-ctx.Done():
			}
		}()
	}
	log.Info("detect: running", "group", cfg.Group)
	if err := r.Run(ctx); err != nil {
		return fmt.Errorf("detect: router: %w", err)
	}
	return nil
}

// handler decodes, observes and publishes. Events that fail validation
// are acked and skipped: the ingest groups dead-letter them already.
// A publish error is returned so the router retries; the finding waits in
// the outbox and goes out first on the next call.
func handler(f *family, cfg Config, out *publisher, met *observe.Metrics, log *slog.Logger) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		env, p, err := schemas.Decode(bus.EventMetadata(msg), msg.Payload, time.Time{}, cfg.Limits)
		if err != nil {
			log.Debug("detect: skip invalid event", "family", f.name, "id", msg.UUID, "err", err)
			return nil
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		for _, fd := range f.det.Observe(stream.Event{ID: env.ID, Tenant: env.Tenant, Time: env.Time, Payload: p}) {
			a, err := schemas.NewEvent(cfg.Source, fd.Tenant, fd.Anomaly)
			if err != nil {
				log.Error("detect: invalid finding dropped", "kind", fd.Anomaly.Kind, "err", err)
				continue
			}
			f.outbox = append(f.outbox, a)
			f.kinds = append(f.kinds, fd.Anomaly.Kind)
		}
		for len(f.outbox) > 0 {
			if err := out.publish(msg.Context(), f.outbox[0]); err != nil {
				return fmt.Errorf("publish anomaly: %w", err)
			}
			log.Info("detect: anomaly", "family", f.name, "id", f.outbox[0].ID, "tenant", f.outbox[0].Tenant)
			met.Findings.WithLabelValues(f.name, f.kinds[0]).Inc()
			f.outbox, f.kinds = f.outbox[1:], f.kinds[1:]
		}
		return nil
	}
}

type publisher struct {
	routes *schemas.RoutingTable
	pubs   map[schemas.Transport]message.Publisher
}

func (p *publisher) publish(ctx context.Context, env schemas.Envelope) error {
	dests, err := p.routes.Resolve(env)
	if err != nil {
		return err
	}
	for _, d := range dests {
		pub, ok := p.pubs[d.Transport]
		if !ok {
			return fmt.Errorf("no publisher for %s", d.Transport)
		}
		m := message.NewMessage(env.ID, message.Payload(env.Data))
		m.Metadata = env.Metadata()
		m.SetContext(ctx)
		if err := pub.Publish(d.Name(), m); err != nil {
			return fmt.Errorf("%s %s: %w", d.Transport, d.Name(), err)
		}
	}
	return nil
}

func subscriber(cfg Config, js jetstream.JetStream, in input, name string, log *slog.Logger) (message.Subscriber, error) {
	switch in.transport {
	case schemas.TransportJetStream:
		return natsbus.NewSubscriber(js, natsbus.SubscriberConfig{Durable: name, StartFrom: natsbus.StartFrom(cfg.StartFrom),
			MaxAckPending: 256, FetchBatch: 100, Logger: log})
	case schemas.TransportKafka:
		return kafkabus.NewSubscriber(kafkabus.SubscriberConfig{Brokers: cfg.KafkaBrokers, GroupID: name + "-" + sanitize(in.topic),
			StartFrom: kafkabus.StartOffset(cfg.StartFrom), MaxInFlightPerPartition: 64, Logger: log})
	}
	return nil, errors.New("unknown transport " + string(in.transport))
}

func sanitize(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c == '.' || c == '>' || c == '*' {
			b[i] = '_'
		}
	}
	return string(b)
}
