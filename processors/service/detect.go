package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"go.opentelemetry.io/otel/trace"

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
	"github.com/tributary-io/tributary/producers/publish"
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

	mu     sync.Mutex         // Observe and the outbox
	pubMu  sync.Mutex         // one flush at a time, in order
	outbox []schemas.Envelope // built once, so a retried publish keeps its id
	kinds  []string           // the outbox's anomaly kinds, for metrics

	skewLog atomic.Int64 // unix nanos of the last clock-skew warning
}

// skewLogEvery bounds clock-skew warnings per family: one producer with a
// broken clock can send thousands a second, and the counter has them all.
const skewLogEvery = 10 * time.Second

// warnSkew reports whether a clock-skew warning is due at now.
func (f *family) warnSkew(now time.Time) bool {
	last := f.skewLog.Load()
	return now.UnixNano()-last >= int64(skewLogEvery) && f.skewLog.CompareAndSwap(last, now.UnixNano())
}

// factories build the detectors by the names families declare
// (schemas.FamilyInfo.Detector); a test fails when a declared one is
// missing here.
var factories = map[string]func(Config) (stream.Detector, error){
	authdetect.Name: func(c Config) (stream.Detector, error) { return authdetect.New(c.Auth) },
	taskdetect.Name: func(c Config) (stream.Detector, error) { return taskdetect.New(c.Task) },
	teledetect.Name: func(c Config) (stream.Detector, error) { return teledetect.New(c.Telemetry) },
}

// families builds a detector for every declared family that names one,
// reading its types from where their routes send them.
func families(cfg Config, routes *schemas.RoutingTable) ([]*family, error) {
	var out []*family
	for _, fi := range schemas.Declared() {
		if fi.Detector == "" {
			continue
		}
		mk, ok := factories[fi.Detector]
		if !ok {
			return nil, fmt.Errorf("family %s: no detector %q", fi.Family, fi.Detector)
		}
		det, err := mk(cfg)
		if err != nil {
			return nil, err
		}
		srcs, err := routes.Sources(fi.Types)
		if err != nil {
			return nil, fmt.Errorf("family %s: %w", fi.Family, err)
		}
		f := &family{name: string(fi.Family), det: det}
		for _, s := range srcs {
			f.inputs = append(f.inputs, input{transport: s.Transport, topic: s.Filter})
		}
		out = append(out, f)
	}
	return out, nil
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
	prov := cfg.Provision
	prov.KafkaSecurity = cfg.KafkaSecurity
	bus, err := provision.Connect(ctx, prov, "tributary-"+cfg.Group, cfg.NATSURL, cfg.KafkaBrokers, routes, cfg.NATSOptions...)
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
	kafkaPub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: cfg.KafkaBrokers, Security: cfg.KafkaSecurity, Logger: log})
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	closers = append(closers, kafkaPub.Close)
	out, err := publish.New(publish.Config{Source: cfg.Source, Routing: cfg.Routing, Limits: cfg.Limits, Logger: log},
		map[schemas.Transport]publish.Transport{schemas.TransportJetStream: jsPub, schemas.TransportKafka: kafkaPub})
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}

	fams, err := families(cfg, routes)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	met := observe.New("detect")
	dm := newDetectMetrics(met)
	cp, err := newCheckpointer(ctx, js, cfg, fams, dm, log)
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
	tp, shutdown, err := observe.Tracer(ctx, "detect", cfg.Tracing)
	if err != nil {
		return fmt.Errorf("detect: %w", err)
	}
	closers = append(closers, func() error {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		return shutdown(sctx)
	})
	health := daemon.NewHealth(r)
	// State that cannot be saved is lost at the next restart: a failing
	// checkpoint makes the service unhealthy until a save succeeds.
	health.Check("checkpoint", cp.Err)
	for _, f := range fams {
		for _, in := range f.inputs {
			name := cfg.Group + "-" + f.name
			sub, err := daemon.Subscriber(js, cfg.KafkaBrokers, consume(cfg, in, name), log)
			if err != nil {
				return fmt.Errorf("detect: %w", err)
			}
			closers = append(closers, sub.Close)
			hname := f.name + "-" + sanitize(in.topic)
			transport := in.transport
			check := func(env schemas.Envelope, origin string) error { return routes.CheckTenant(env, transport, origin) }
			h := r.AddConsumerHandler(name+"-"+sanitize(in.topic), in.topic, sub, handler(f, cfg, check, out, met, dm, log))
			h.AddMiddleware(observe.TraceMiddleware(tp, hname), met.Middleware(hname, nil))
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
// Findings go through the SDK's client (routing, retry budget, error
// classification); a publish error is returned so the router retries, and
// the finding waits in the outbox and goes out first on the next call.
// Observe holds the family's lock; publishing holds another, so a slow
// broker does not stall the detector's other inputs.
func handler(f *family, cfg Config, checkOrigin func(schemas.Envelope, string) error, out *publish.Client, met *observe.Metrics, dm *detectMetrics, log *slog.Logger) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		now := cfg.Now()
		ev, err := decode(msg, now, cfg.Limits, checkOrigin)
		if err != nil {
			// Ingest dead-letters these already; here they are counted and
			// skipped. A clock-skewed one is worth a warning: fed to the
			// detector it would move its tenant's watermark.
			reason := "invalid"
			switch {
			case errors.Is(err, schemas.ErrTenantMismatch):
				// A producer writing as another tenant: its findings would
				// land in that tenant's anomalies.
				reason = "tenant_mismatch"
				if f.warnSkew(now) { // the same bound: one line per family per 10 s
					log.Warn("detect: event whose tenant is not its subject's ignored (further ones within 10s only counted)",
						"family", f.name, "id", msg.UUID, "err", err)
				}
			case errors.Is(err, schemas.ErrClockSkew):
				reason = "clock_skew"
				if f.warnSkew(now) {
					log.Warn("detect: event outside the accepted time window ignored (further ones within 10s only counted)",
						"family", f.name, "id", msg.UUID, "err", err)
				}
			default:
				log.Debug("detect: skip invalid event", "family", f.name, "id", msg.UUID, "err", err)
			}
			dm.ignored.WithLabelValues(f.name, reason).Inc()
			return nil
		}
		var opts []schemas.Option
		if sc := trace.SpanContextFromContext(msg.Context()); sc.IsValid() {
			opts = append(opts, schemas.WithTraceParent(traceParent(sc)))
		}
		f.mu.Lock()
		for _, fd := range f.det.Observe(ev) {
			a, err := schemas.NewEvent(cfg.Source, fd.Tenant, fd.Anomaly, opts...)
			if err != nil {
				log.Error("detect: invalid finding dropped", "kind", fd.Anomaly.Kind, "err", err)
				continue
			}
			f.outbox = append(f.outbox, a)
			f.kinds = append(f.kinds, fd.Anomaly.Kind)
		}
		f.mu.Unlock()
		return f.flush(msg.Context(), out, met, log)
	}
}

// decode validates a message as ingest does, against the real clock and
// the same limits: an event outside [now-MaxPast, now+MaxFuture] is one
// ingest dead-letters, and fed to a detector a future-dated one would move
// its tenant's watermark and make the tenant's real events late (issue 11:
// decoding with a zero now skipped this check).
func decode(msg *message.Message, now time.Time, limits schemas.Limits, checkOrigin func(schemas.Envelope, string) error) (stream.Event, error) {
	env, p, err := schemas.Decode(bus.EventMetadata(msg), msg.Payload, now, limits)
	if err != nil {
		return stream.Event{}, err
	}
	if origin, ok := bus.Origin(msg.Context()); ok && checkOrigin != nil {
		if err := checkOrigin(env, origin); err != nil {
			return stream.Event{}, err
		}
	}
	return stream.Event{ID: env.ID, Tenant: env.Tenant, Time: env.Time, Payload: p}, nil
}

// flush publishes the outbox in order.
func (f *family) flush(ctx context.Context, out *publish.Client, met *observe.Metrics, log *slog.Logger) error {
	f.pubMu.Lock()
	defer f.pubMu.Unlock()
	for {
		f.mu.Lock()
		if len(f.outbox) == 0 {
			f.mu.Unlock()
			return nil
		}
		a, kind := f.outbox[0], f.kinds[0]
		f.mu.Unlock()
		if _, err := out.Publish(ctx, a); err != nil {
			return fmt.Errorf("publish anomaly: %w", err)
		}
		log.Info("detect: anomaly", "family", f.name, "kind", kind, "id", a.ID, "tenant", a.Tenant)
		met.Findings.WithLabelValues(f.name, kind).Inc()
		f.mu.Lock()
		f.outbox, f.kinds = f.outbox[1:], f.kinds[1:]
		f.mu.Unlock()
	}
}

// consume is how the detectors consume one input: a durable per family
// on JetStream, a group per family and topic on Kafka.
func consume(cfg Config, in input, name string) daemon.Consume {
	c := daemon.Consume{Name: name, Transport: in.transport, Filter: in.topic, KafkaSecurity: cfg.KafkaSecurity, InFlight: 256, Partitions: 4, StartFrom: cfg.StartFrom,
		AllowLatest: cfg.AllowLatest}
	if in.transport == schemas.TransportKafka {
		c.Name = name + "-" + sanitize(in.topic)
	}
	return c
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

// traceParent is sc as a W3C traceparent header value.
func traceParent(sc trace.SpanContext) string {
	return fmt.Sprintf("00-%s-%s-%s", sc.TraceID(), sc.SpanID(), sc.TraceFlags())
}
