// Package eval runs a simulated scenario with injected anomalies through the
// whole platform on real servers — loadgen publishing through the SDK to
// JetStream and Kafka, the ingest service and the streaming detectors
// in-process, exactly as their mains run them — and scores what the
// detectors published and what the analysts' SQL queries find against the
// simulator's ground truth. `make eval` (the test here) and `make demo`
// (tests/cmd/tributary-demo) share it.
package eval

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tributary-io/tributary/consumers/service"
	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/secure"
	detect "github.com/tributary-io/tributary/processors/service"
	"github.com/tributary-io/tributary/producers/loadgen"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/producers/sim"
)

// Servers are the brokers and database a run uses.
type Servers struct {
	NATSURL        string
	KafkaBrokers   []string
	ClickHouseAddr string
	// Credentials and TLS of each connection (secure.NATS.Options,
	// secure.Kafka.Security, secure.ClickHouse); zero on an open stack.
	NATSOptions   []nats.Option
	KafkaSecurity kafkabus.SecurityConfig
	ClickHouse    secure.ClickHouse
}

// natsConnect connects with the servers' credentials and TLS.
func (s Servers) natsConnect(name string) (*nats.Conn, error) {
	return nats.Connect(s.NATSURL, append([]nats.Option{nats.Name(name)}, s.NATSOptions...)...)
}

// ClickHouseConfig is database on the servers' ClickHouse, with its user,
// password and TLS.
func (s Servers) ClickHouseConfig(database string) (chinfra.Config, error) {
	cfg := chinfra.Config{Addr: s.ClickHouseAddr, Database: database}
	if err := s.ClickHouse.Apply(&cfg); err != nil {
		return cfg, fmt.Errorf("eval: clickhouse settings: %w", err)
	}
	return cfg, nil
}

// Config is one pipeline run; zero fields take WithDefaults' values.
type Config struct {
	Servers  Servers
	Scenario sim.Scenario
	Seed     uint64
	// RunID makes tenants, consumer groups, durables and (unless Database
	// is set) the database unique, so runs on shared servers never see each
	// other's events. Default: random.
	RunID string
	// Database receives the ingested events (default "eval_<RunID>").
	Database string
	// Grace is how long the detectors keep running after the last event
	// was published: findings decided late (stuck tasks, silent hosts) and
	// the last anomaly events still need to land.
	Grace time.Duration // default 20s
	// CatchUp bounds the wait for the fresh detector groups to work
	// through what the shared streams already hold (see waitCaughtUp).
	CatchUp time.Duration // default 3m
	// Detect adjusts the detector service config (thresholds); nil: defaults.
	Detect func(*detect.Config)
	Logger *slog.Logger // default: discard
	// Progress, if set, receives one line per pipeline step for people.
	Progress io.Writer
}

// WithDefaults fills zero fields.
func (c Config) WithDefaults() Config {
	if c.RunID == "" {
		c.RunID = NewRunID()
	}
	if c.Database == "" {
		c.Database = "eval_" + c.RunID
	}
	if c.Grace == 0 {
		c.Grace = 20 * time.Second
	}
	if c.CatchUp == 0 {
		c.CatchUp = 3 * time.Minute
	}
	if c.Seed == 0 {
		c.Seed = 1
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Progress == nil {
		c.Progress = io.Discard
	}
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Servers.NATSURL == "" || len(c.Servers.KafkaBrokers) == 0 || c.Servers.ClickHouseAddr == "" {
		errs = append(errs, errors.New("eval: Servers needs NATSURL, KafkaBrokers and ClickHouseAddr"))
	}
	if err := c.Scenario.WithDefaults().Validate(); err != nil {
		errs = append(errs, err)
	}
	if c.Grace < 0 || c.CatchUp <= 0 {
		errs = append(errs, fmt.Errorf("eval: Grace %s must not be negative, CatchUp %s must be positive", c.Grace, c.CatchUp))
	}
	return errors.Join(errs...)
}

// Group is the consumer-group prefix of the run's ingest ("<Group>-…") and
// detectors ("<Group>-detect-…").
func (c Config) Group() string { return "eval-" + c.RunID }

// Result is what one run produced; Score turns it into numbers.
type Result struct {
	RunID, Database, Group string
	Tenants                []string
	Publish                loadgen.Report
	Truth                  []sim.Truth
	// Start and End bound the scenario's event times; Until is when the
	// detectors were stopped (End + Grace in event time).
	Start, End, Until time.Time
	// Delivered is uniqExact(event_id) per table for the run's tenants,
	// Landed its sum: it must equal Publish.Published.
	Delivered map[string]uint64
	Landed    uint64
	Detected  []Finding // anomalies table (streaming detectors)
	Queried   []Finding // processors/queries over the ingested tables
	// CatchUp is how long the fresh detector groups took to work through
	// the shared streams' backlog before the scenario started.
	CatchUp time.Duration
}

// Run executes the pipeline: ingest and detectors in-process, the scenario
// published at real-time pace through both transports, a grace period,
// then the detectors stop and the findings are read back from ClickHouse.
// Event times track the wall clock (speed 1): the detectors' watermarks
// are per family and shared by every tenant on the servers, so a run
// replayed into the past would have its events dropped as late whenever
// someone else publishes at the same time.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	log, say := cfg.Logger, func(format string, args ...any) { fmt.Fprintf(cfg.Progress, format+"\n", args...) }
	sc, tenants := Isolate(cfg.Scenario.WithDefaults(), cfg.RunID)
	res := &Result{RunID: cfg.RunID, Database: cfg.Database, Group: cfg.Group(), Tenants: tenants}
	srv := cfg.Servers

	chcfg, err := srv.ClickHouseConfig(cfg.Database)
	if err != nil {
		return nil, err
	}
	ingest, err := start(ctx, "ingest", func(ctx context.Context, ready chan<- struct{}) error {
		return service.RunIngest(ctx, service.IngestConfig{
			NATSURL: srv.NATSURL, KafkaBrokers: srv.KafkaBrokers,
			NATSOptions: srv.NATSOptions, KafkaSecurity: srv.KafkaSecurity,
			ClickHouse: chcfg,
			Group:      res.Group, FlushInterval: 200 * time.Millisecond, StatsInterval: -1,
			// The shared servers hold every earlier run's events; this run's
			// tenants only exist from now on.
			StartFrom: "latest", AllowLatest: true,
		}, log, ready)
	})
	if err != nil {
		return nil, err
	}
	defer ingest.stop()

	dcfg := detect.Config{NATSURL: srv.NATSURL, KafkaBrokers: srv.KafkaBrokers, Group: res.Group + "-detect",
		NATSOptions: srv.NATSOptions, KafkaSecurity: srv.KafkaSecurity}
	if cfg.Detect != nil {
		cfg.Detect(&dcfg)
	}
	detectors, err := start(ctx, "detectors", func(ctx context.Context, ready chan<- struct{}) error {
		return detect.RunDetectors(ctx, dcfg, log, ready)
	})
	if err != nil {
		return nil, err
	}
	defer detectors.stop()
	say("ingest (group %s, database %s) and detectors (group %s) running", res.Group, cfg.Database, dcfg.Group)

	// RunDetectors has no StartFrom: a fresh group reads everything the
	// streams retain. Publishing before it caught up would put this run's
	// events behind other partitions' backlog, where the shared watermark
	// would call them late.
	began := time.Now()
	if err := waitCaughtUp(ctx, srv, dcfg.Group, cfg.CatchUp); err != nil {
		return nil, err
	}
	res.CatchUp = time.Since(began)
	say("detectors caught up with the shared streams in %s", res.CatchUp.Round(100*time.Millisecond))

	pub, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/eval"},
		NATSURL: srv.NATSURL, KafkaBrokers: srv.KafkaBrokers, NATSOptions: srv.NATSOptions, KafkaSecurity: srv.KafkaSecurity})
	if err != nil {
		return nil, fmt.Errorf("eval: %w", err)
	}
	defer pub.Close()
	say("publishing scenario %s (%s, %d anomalies) for tenants %v at real-time pace", sc.Name, sc.Duration, len(sc.Anomalies), tenants)
	rep, err := loadgen.Run(ctx, loadgen.Config{Scenario: sc, Seed: cfg.Seed, Speed: 1, Logger: log}, pub.Client, io.Discard)
	res.Publish, res.Truth = rep, rep.Truth
	res.Start, res.End = rep.Start, rep.Start.Add(sc.Duration)
	if err != nil {
		return res, fmt.Errorf("eval: publish: %w", err)
	}
	say("published %d events (%d failed) in %s", rep.Published, rep.Failed, rep.Elapsed.Round(time.Millisecond))

	if err := sleep(ctx, time.Until(res.End.Add(cfg.Grace))); err != nil {
		return res, err
	}
	res.Until = time.Now()
	if err := detectors.stop(); err != nil {
		return res, fmt.Errorf("eval: detectors: %w", err)
	}

	db, err := chinfra.Open(ctx, chcfg, log)
	if err != nil {
		return res, fmt.Errorf("eval: %w", err)
	}
	defer db.Close()
	// Everything published must land; anomalies are the last to arrive
	// (detector → bus → ingest), so they are read once the events are in.
	if err := waitDelivered(ctx, db, res, 60*time.Second); err != nil {
		return res, err
	}
	say("all %d events landed in ClickHouse", res.Landed)
	if err := sleep(ctx, 3*time.Second); err != nil { // the last anomalies' batch
		return res, err
	}
	if res.Detected, err = readAnomalies(ctx, db, tenants); err != nil {
		return res, err
	}
	if res.Queried, err = runQueries(ctx, db, tenants, res.Start, res.End); err != nil {
		return res, err
	}
	return res, nil
}

// job is a service running in its own goroutine until stopped.
type job struct {
	name   string
	cancel context.CancelFunc
	done   chan error
	err    error
	exited bool
}

func start(ctx context.Context, name string, run func(context.Context, chan<- struct{}) error) (*job, error) {
	jctx, cancel := context.WithCancel(ctx)
	j := &job{name: name, cancel: cancel, done: make(chan error, 1)}
	ready := make(chan struct{})
	go func() { j.done <- run(jctx, ready) }()
	select {
	case <-ready:
		return j, nil
	case err := <-j.done:
		cancel()
		return nil, fmt.Errorf("eval: %s did not start: %w", name, err)
	case <-ctx.Done():
		cancel()
		<-j.done
		return nil, ctx.Err()
	}
}

// stop cancels the service and waits for its drain; safe to call twice.
func (j *job) stop() error {
	if !j.exited {
		j.cancel()
		j.err, j.exited = <-j.done, true
	}
	return j.err
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
