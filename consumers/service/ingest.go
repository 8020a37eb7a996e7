// Package service wires consumer groups to the bus and ClickHouse. Each
// service is Run(ctx, cfg, log): a main loads config and calls it, and tests
// run the very same service in-process.
package service

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go/jetstream"
	"go.opentelemetry.io/otel/trace"

	"github.com/tributary-io/tributary/consumers/internal/ingest"
	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/daemon"
	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/observe"
	"github.com/tributary-io/tributary/infra/provision"
	"github.com/tributary-io/tributary/infra/router"
	"github.com/tributary-io/tributary/schemas"
)

// RunIngest runs the ingest consumer groups until ctx ends, then drains:
// handlers finish their inserts and ack, writers flush, and it returns nil
// within cfg.ShutdownTimeout (messages still un-acked then are redelivered
// elsewhere, never lost). ready, if not nil, is closed once every handler
// is subscribed.
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

	tp := cfg.TracerProvider
	if tp == nil {
		p, shutdown, err := observe.Tracer(ctx, "ingest", cfg.Tracing)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		tp = p
		closers = append(closers, func() error {
			sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			return shutdown(sctx)
		})
	}

	conn, err := clickhouse.Open(ctx, cfg.ClickHouse, log)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, conn.Close)
	// On a cluster (ClickHouse.Cluster) the schema is the migrations'
	// cluster form, and the writers below insert into the Distributed
	// tables of the usual names, synchronously.
	if _, err := clickhouse.RunMigrations(ctx, conn, cfg.ClickHouse.Migrate(map[string]string{
		"event_retention_days":   strconv.Itoa(cfg.EventRetentionDays),
		"anomaly_retention_days": strconv.Itoa(cfg.AnomalyRetentionDays),
	}), log); err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	routes, err := schemas.NewRoutingTable(cfg.Routing)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	prov := cfg.Provision
	prov.KafkaSecurity = cfg.KafkaSecurity
	bus, err := provision.Connect(ctx, prov, "tributary-"+cfg.Group, cfg.NATSURL, cfg.KafkaBrokers, routes, cfg.NATSOptions...)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, bus.Close)
	js := bus.JS
	subs, err := subscriptions(cfg.Routing, routes)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}

	jsPub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{Logger: log})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, jsPub.Close)
	kafkaPub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: cfg.KafkaBrokers, Security: cfg.KafkaSecurity, Logger: log})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, kafkaPub.Close)
	dlqPubs := map[schemas.Transport]message.Publisher{schemas.TransportJetStream: jsPub, schemas.TransportKafka: kafkaPub}

	// Writers outlive ctx by up to ShutdownTimeout: after ctx ends the
	// subscribers stop fetching while in-flight rows still get inserted and
	// acked. Only when the drain overruns are retries cut short (ErrClosed:
	// the messages are nacked, not dead-lettered).
	writerCtx, cancelWriters := context.WithCancel(context.WithoutCancel(ctx))
	stopDeadline := context.AfterFunc(ctx, func() { time.AfterFunc(cfg.ShutdownTimeout, cancelWriters) })
	// Runs after the writers' closers (closers run in reverse).
	closers = append(closers, func() error { stopDeadline(); cancelWriters(); return nil })

	r, err := router.New(cfg.Router, log)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	st := newStats(observe.New("ingest"))
	kc, err := cfg.KafkaSecurity.Client(cfg.KafkaBrokers, 2*time.Second)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	health := daemon.NewHealth(r)
	// Servers that take deduplication tokens get batches a replay rebuilds
	// (per log, in windows of consecutive positions, half what a Kafka
	// partition may have in flight so windows fill by count) and drop a
	// replayed batch from the tables and rollups alike.
	server, err := clickhouse.ServerVersion(ctx, conn)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	dedup := clickhouse.DedupTokensSupported(server)
	window := max(1, min(cfg.BatchRows, cfg.InFlight/max(1, cfg.Provision.TopicPartitions)/2))
	log.Info("insert deduplication", slog.Bool("tokens", dedup), slog.String("server_version", server.String()), slog.Int("window_rows", window))
	writers := map[string]*clickhouse.BatchWriter{}
	maxRows := batchRows(cfg, subs)
	writerFor := func(table ingest.Table) (*clickhouse.BatchWriter, error) {
		if w, ok := writers[table.Name]; ok {
			return w, nil
		}
		rows := cfg.BatchRows
		if n, ok := maxRows[table.Name]; ok {
			rows = n
		}
		w, err := clickhouse.NewBatchWriter(conn, clickhouse.BatchConfig{
			Table: table.Name, Columns: table.Columns, MaxRows: rows,
			FlushInterval: cfg.FlushInterval, MaxPendingRows: cfg.BufferRows, Observe: st.met.Table(table.Name),
			DedupTokens: dedup, WindowRows: window,
			Tracer: tp.Tracer("github.com/tributary-io/tributary/infra/clickhouse"),
		}, log)
		if err != nil {
			return nil, err
		}
		w.Start(writerCtx)
		writers[table.Name] = w
		st.addWriter(table.Name, w)
		// Closed after the router (closers run in reverse), so in-flight
		// handlers finish their batch first.
		closers = append(closers, func() error {
			cctx, cancel := context.WithTimeout(writerCtx, cfg.ShutdownTimeout)
			defer cancel()
			return w.Close(cctx)
		})
		return w, nil
	}
	// Every event handler's terminal path writes to dead_letters, so its
	// writer exists before any handler.
	deadLetters, err := writerFor(ingest.Table{Name: ingest.DeadLettersTable, Columns: ingest.DeadLettersColumns})
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	var pipes []pipeRun
	for _, s := range subs {
		w, err := writerFor(s.table)
		if err != nil {
			return fmt.Errorf("ingest: %w", err)
		}
		if s.deadLetter {
			h, err := addDeadLetterHandler(r, cfg, js, s, w, st, tp, log)
			if err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			health.Track(s.name, h)
		} else {
			pr, err := newPipe(cfg, js, s, w, deadLetters, dlqPubs, routes, st, tp, log)
			if err != nil {
				return fmt.Errorf("ingest: %w", err)
			}
			pipes = append(pipes, pr)
			health.Track(s.name, pr.pipe)
		}
		st.met.AddLag(s.name, daemon.LagProbe(js, kc, consume(cfg, s)))
	}

	stopStats, err := serveStats(ctx, cfg, st, health, log)
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	closers = append(closers, stopStats)
	// The router (the dead-letter handlers) subscribes first and the pipes
	// (the event subscriptions, see ingest.Pipe) after it: every
	// subscription is made before any event is handled, so a broker that
	// restarts while the first events land cannot fail a subscription
	// still being made, which would stop the process. Ready means both.
	// When the router stops, so do the pipes: their subscribers drain,
	// acking what lands, before the writers are closed.
	routed := make(chan error, 1)
	go func() { routed <- r.Run(ctx) }()
	select {
	case <-r.Running():
	case err := <-routed:
		if err != nil {
			return fmt.Errorf("ingest: router: %w", err)
		}
		return nil
	}
	pipeCtx, stopPipes := context.WithCancel(ctx)
	var piping sync.WaitGroup
	defer func() {
		stopPipes()
		piping.Wait()
		for _, pr := range pipes {
			if err := pr.sub.Close(); err != nil {
				log.Warn("ingest: close subscriber", "topic", pr.topic, "err", err)
			}
		}
	}()
	for _, pr := range pipes {
		msgs, err := pr.sub.Subscribe(pipeCtx, pr.topic)
		if err != nil {
			_ = r.Close()
			<-routed
			return fmt.Errorf("ingest: subscribe to %s: %w", pr.topic, err)
		}
		piping.Go(func() { pr.pipe.Run(msgs) })
	}
	if ready != nil {
		close(ready)
	}
	log.Info("ingest: running", "group", cfg.Group, "handlers", len(subs))
	if err := <-routed; err != nil {
		return fmt.Errorf("ingest: router: %w", err)
	}
	stopPipes()
	piping.Wait()
	log.Info("ingest: router stopped, flushing writers")
	return nil
}

// pipeRun is one event subscription on the batch path.
type pipeRun struct {
	pipe  *ingest.Pipe
	sub   message.Subscriber
	topic string
}

// addDeadLetterHandler registers a dead-letter destination's subscription
// (into dead_letters) on the router with the standard stack plus tracing
// and metrics: dead letters are few, the router's per-message cost does
// not matter there.
func addDeadLetterHandler(r *message.Router, cfg IngestConfig, js jetstream.JetStream, s subscription, w *clickhouse.BatchWriter,
	st *stats, tp trace.TracerProvider, log *slog.Logger) (*message.Handler, error) {
	sub, err := daemon.Subscriber(js, cfg.KafkaBrokers, consume(cfg, s), log)
	if err != nil {
		return nil, err
	}
	h := r.AddConsumerHandler(cfg.Group+"-"+s.name, s.topic, sub, ingest.NewDeadLetters(w, s.transport, s.topic, log).Handle)
	h.AddMiddleware(observe.TraceMiddleware(tp, s.name), st.addHandler(s.name, nil))
	return h, nil
}

// newPipe builds an event subscription's batch path (ingest.Pipe): the
// Sink's rows into its table's writer; poison goes to the family's
// dead-letter destination on the same transport, or, when that
// destination refuses it, straight into dead_letters through deadLetters
// — as router.DeadLetter does for a router handler. A consumer span per
// message is made only when tracing is on (see tracing).
func newPipe(cfg IngestConfig, js jetstream.JetStream, s subscription, w, deadLetters *clickhouse.BatchWriter,
	dlqPubs map[schemas.Transport]message.Publisher, routes *schemas.RoutingTable, st *stats, tp trace.TracerProvider, log *slog.Logger) (pipeRun, error) {
	sub, err := daemon.Subscriber(js, cfg.KafkaBrokers, consume(cfg, s), log)
	if err != nil {
		return pipeRun{}, err
	}
	name := cfg.Group + "-" + s.name
	dlq, err := routes.DeadLetterFor(s.family, s.transport)
	if err != nil {
		return pipeRun{}, err
	}
	direct := ingest.NewDeadLetters(deadLetters, s.transport, dlq.Name(), log)
	dispose, err := router.DeadLetterFunc(router.DeadLetterConfig{Publisher: dlqPubs[s.transport], Topic: dlq.Name(),
		IsPoison: ingest.IsPoison, Store: direct.Store, MaxDeliveries: cfg.PoisonMaxDeliveries, Logger: log.With("handler", name),
		SourceHandler: name, SourceTopic: s.topic})
	if err != nil {
		return pipeRun{}, err
	}
	sink := ingest.NewSink(s.table.Name, w, s.table.Values, cfg.Limits)
	sink.Typed = s.table.Typed
	sink.Fresh = st.met.Table(s.table.Name).Fresh
	sink.Positions = w.Positioned()
	transport := s.transport
	sink.CheckOrigin = func(env schemas.Envelope, origin string) error {
		return routes.CheckTenant(env, transport, origin)
	}
	pc := ingest.PipeConfig{Name: name, Sink: sink, Writer: w, DeadLetter: dispose,
		Record: st.addRecorder(s.name, ingest.IsPoison), Logger: log}
	if tracing(cfg) {
		pc.Trace = observe.ConsumeSpans(tp, s.name)
	}
	p, err := ingest.NewPipe(pc)
	if err != nil {
		return pipeRun{}, err
	}
	return pipeRun{pipe: p, sub: sub, topic: s.topic}, nil
}

// tracing says whether spans are wanted at all: with tracing off the
// per-message span (a no-op) still costs its attributes and context.
func tracing(cfg IngestConfig) bool {
	return cfg.TracerProvider != nil || cfg.Tracing.Endpoint != ""
}

// batchRows is the most rows per insert of each table a subscription
// feeds: BatchRows, or less where a subscription's in-flight window is
// smaller. A batch cannot outgrow the un-acked messages its rows come
// from, so a larger one would only wait for its timer: a JetStream
// durable's 5,000 under 20,000-row batches halved the JetStream job
// (10.6-10.8k rows/s against 20-28k, each insert waiting FlushInterval).
func batchRows(cfg IngestConfig, subs []subscription) map[string]int {
	out := map[string]int{}
	for _, s := range subs {
		n := min(cfg.BatchRows, consume(cfg, s).InFlight)
		if cur, ok := out[s.table.Name]; !ok || n < cur {
			out[s.table.Name] = n
		}
	}
	return out
}

// consume is how ingest consumes one subscription. The in-flight window
// is per subscription on both transports (InFlight on Kafka, split over
// the topic's partitions; JetStreamInFlight on JetStream). A partition reader's fetch buffer is 1 MiB: an instance
// reads ~27 partitions (9 topics × 3), and the transport's 10 MiB default
// alone would allow 270 MiB; 1 MiB still carries thousands of events per
// fetch, and Kafka returns an oversized record anyway.
func consume(cfg IngestConfig, s subscription) daemon.Consume {
	inFlight := cfg.InFlight
	if s.transport == schemas.TransportJetStream {
		inFlight = cfg.JetStreamInFlight
	}
	return daemon.Consume{Name: cfg.Group + "-" + s.name, Transport: s.transport, Filter: s.topic, KafkaSecurity: cfg.KafkaSecurity,
		InFlight: inFlight, Partitions: cfg.Provision.TopicPartitions, StartFrom: cfg.StartFrom,
		AllowLatest: cfg.AllowLatest, AckWait: cfg.AckWait, SessionTimeout: cfg.KafkaSessionTimeout, MaxBytes: 1 << 20}
}
