// Package kit is the test kit for teams that build on Tributary: real
// servers (TRIBUTARY_* variables, else testcontainers, else the local
// stack), the ingest and, when asked, the detectors running in-process in
// a fresh database and consumer group, a publishing client, and the
// assertions such a team writes over and over: the events landed, exactly
// once, an anomaly was found, an event was dead-lettered.
//
//	p := kit.Start(t, kit.WithDetectors())
//	ev := p.Event(t, schemas.LoginFailed{...})
//	p.Publish(t, ev)
//	p.WaitLanded(t, 30*time.Second, ev)
//	p.ExpectAnomaly(t, "brute_force", "alice", time.Minute)
//
// Everything Start creates is removed when the test ends. Like the
// project's own integration tests, a test that cannot get servers fails
// and says why; it never skips.
package kit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	ingest "github.com/tributary-io/tributary/consumers/service"
	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	detect "github.com/tributary-io/tributary/processors/service"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// Pipeline is one test's running pipeline.
type Pipeline struct {
	Env      *testenv.Env
	Tenant   string // unique to this pipeline: events of other tests never mix in
	Database string
	Group    string
	CH       driver.Conn   // ClickHouse, in Database
	Pub      *publish.Conn // the SDK's client on the same servers
}

// Option changes what Start runs.
type Option func(*options)

type options struct {
	detectors bool
	ingest    func(*ingest.IngestConfig)
	detect    func(*detect.Config)
	log       *slog.Logger
}

// WithDetectors runs the streaming detectors too, so ExpectAnomaly can
// see what they find.
func WithDetectors() Option { return func(o *options) { o.detectors = true } }

// WithIngestConfig edits the ingest's configuration before it starts.
func WithIngestConfig(f func(*ingest.IngestConfig)) Option { return func(o *options) { o.ingest = f } }

// WithDetectConfig edits the detectors' configuration before they start.
func WithDetectConfig(f func(*detect.Config)) Option { return func(o *options) { o.detect = f } }

// WithLogger sends the services' logs there (default: warnings to stderr).
func WithLogger(l *slog.Logger) Option { return func(o *options) { o.log = l } }

// Start brings up a pipeline for t and stops it at t's end.
func Start(t testing.TB, opts ...Option) *Pipeline {
	t.Helper()
	o := options{log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	for _, opt := range opts {
		opt(&o)
	}
	env := testenv.Get(t)
	id := randomID(t)
	p := &Pipeline{Env: env, Tenant: "kit" + id, Database: "kit_" + id, Group: "kit-" + id}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)

	icfg := ingest.IngestConfig{
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers,
		ClickHouse: chinfra.Config{Addr: env.ClickHouseAddr, Database: p.Database},
		Group:      p.Group, FlushInterval: 50 * time.Millisecond,
		// A fresh group on shared streams starts at their end, fixed before
		// the service reports ready: a test sees only its own events.
		StartFrom: "latest", AllowLatest: true,
	}
	if o.ingest != nil {
		o.ingest(&icfg)
	}
	t.Cleanup(func() { p.clean(t) })
	run(ctx, t, "ingest", func(ctx context.Context, ready chan<- struct{}) error {
		return ingest.RunIngest(ctx, icfg, o.log, ready)
	})
	if o.detectors {
		dcfg := detect.Config{NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Group: p.Group + "-detect",
			StartFrom: "latest", AllowLatest: true, CheckpointInterval: time.Hour}
		if o.detect != nil {
			o.detect(&dcfg)
		}
		run(ctx, t, "detectors", func(ctx context.Context, ready chan<- struct{}) error {
			return detect.RunDetectors(ctx, dcfg, o.log, ready)
		})
	}

	pub, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/kit"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers})
	if err != nil {
		t.Fatalf("kit: publisher: %v", err)
	}
	t.Cleanup(func() { pub.Close() })
	p.Pub = pub
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}, Auth: clickhouse.Auth{Database: p.Database}})
	if err != nil {
		t.Fatalf("kit: ClickHouse: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	p.CH = conn
	return p
}

// run starts a service and waits until it is ready; it is stopped (and
// must stop cleanly) at the test's end.
func run(ctx context.Context, t testing.TB, name string, f func(context.Context, chan<- struct{}) error) {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- f(runCtx, ready) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("kit: %s failed to start: %v", name, err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatalf("kit: %s not ready after 2 minutes", name)
	}
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("kit: %s stopped with %v", name, err)
		}
	})
}

// Event builds an event of the pipeline's tenant.
func (p *Pipeline) Event(t testing.TB, payload schemas.Payload) schemas.Envelope {
	t.Helper()
	ev, err := schemas.NewEvent("//tributary/kit", p.Tenant, payload)
	if err != nil {
		t.Fatalf("kit: event: %v", err)
	}
	return ev
}

// Publish publishes events and fails t on the first error; it returns
// them as published (with id and time filled in).
func (p *Pipeline) Publish(t testing.TB, events ...schemas.Envelope) []schemas.Envelope {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out := make([]schemas.Envelope, 0, len(events))
	for _, ev := range events {
		sent, err := p.Pub.Publish(ctx, ev)
		if err != nil {
			t.Fatalf("kit: publish %s: %v", ev.Type, err)
		}
		out = append(out, sent)
	}
	return out
}

// PublishRaw puts body with ev's attributes as headers on a JetStream
// subject as it is, bypassing the SDK's validation and routing: for tests
// of what ingest does with broken or forged events.
func (p *Pipeline) PublishRaw(t testing.TB, subject string, ev schemas.Envelope, body []byte) {
	t.Helper()
	nc, err := nats.Connect(p.Env.NATSURL)
	if err != nil {
		t.Fatalf("kit: raw publish: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatalf("kit: raw publish: %v", err)
	}
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatalf("kit: raw publish: %v", err)
	}
	msg := message.NewMessage(ev.ID, body)
	for k, v := range ev.Metadata() {
		msg.Metadata.Set(k, v)
	}
	if err := pub.Publish(subject, msg); err != nil {
		t.Fatalf("kit: raw publish to %s: %v", subject, err)
	}
}

// WaitLanded waits until every event is a row of its table, or fails t
// after within, naming what is missing.
func (p *Pipeline) WaitLanded(t testing.TB, within time.Duration, events ...schemas.Envelope) {
	t.Helper()
	byTable := map[string][]string{}
	for _, ev := range events {
		info, ok := schemas.Lookup(ev.Type)
		if !ok {
			t.Fatalf("kit: %s is not a registered type", ev.Type)
		}
		byTable[info.Table] = append(byTable[info.Table], ev.ID)
	}
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	err := poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var missing []string
		for table, ids := range byTable {
			var n uint64
			// A literal list: 18.16 takes no array parameter for IN.
			quoted := make([]string, len(ids))
			for i, id := range ids {
				quoted[i] = "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(id) + "'"
			}
			if err := p.CH.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+table+" WHERE toString(event_id) IN ("+strings.Join(quoted, ",")+")").Scan(&n); err != nil {
				return false, err
			}
			if int(n) < len(ids) {
				missing = append(missing, fmt.Sprintf("%s %d of %d", table, n, len(ids)))
			}
		}
		if len(missing) > 0 {
			return false, fmt.Errorf("landed: %s", strings.Join(missing, ", "))
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("kit: events did not land within %s: %v", within, err)
	}
}

// ExpectExactlyOnce asserts the exactly-once view of the tenant's rows:
// per table, the FINAL row count equals uniqExact(event_id) equals want.
func (p *Pipeline) ExpectExactlyOnce(t testing.TB, want map[string]int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for table, n := range want {
		var final, uniq uint64
		if err := p.CH.QueryRow(ctx, "SELECT count() FROM "+table+" FINAL WHERE tenant = ?", p.Tenant).Scan(&final); err != nil {
			t.Fatalf("kit: %s FINAL: %v", table, err)
		}
		if err := p.CH.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+table+" WHERE tenant = ?", p.Tenant).Scan(&uniq); err != nil {
			t.Fatalf("kit: %s: %v", table, err)
		}
		if final != uniq || int(uniq) != n {
			t.Errorf("kit: %s holds %d rows after FINAL and %d distinct events, want %d of each", table, final, uniq, n)
		}
	}
}

// ExpectAnomaly waits until the detectors (WithDetectors) stored an
// anomaly of kind on an entity whose id contains entity, and returns its
// score; it fails t after within.
func (p *Pipeline) ExpectAnomaly(t testing.TB, kind, entity string, within time.Duration) float64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var score float64
	err := poll.Until(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		rows, err := p.CH.Query(ctx, "SELECT score FROM anomalies FINAL WHERE tenant = ? AND kind = ? AND position(entity_id, ?) > 0", p.Tenant, kind, entity)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		if rows.Next() {
			return true, rows.Scan(&score)
		}
		return false, fmt.Errorf("no %s anomaly on %q yet", kind, entity)
	})
	if err != nil {
		t.Fatalf("kit: %v within %s", err, within)
	}
	return score
}

// ExpectDeadLetter waits until the event with id is in dead_letters and
// its reason contains reason; it fails t after within.
func (p *Pipeline) ExpectDeadLetter(t testing.TB, id, reason string, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	var got string
	err := poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		rows, err := p.CH.Query(ctx, "SELECT reason FROM dead_letters WHERE event_id = ?", id)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		if rows.Next() {
			return true, rows.Scan(&got)
		}
		return false, fmt.Errorf("event %s is not in dead_letters", id)
	})
	if err != nil {
		t.Fatalf("kit: %v within %s", err, within)
	}
	if !strings.Contains(got, reason) {
		t.Errorf("kit: event %s dead-lettered for %q, want a reason containing %q", id, got, reason)
	}
}

// clean drops the pipeline's database and its durable consumers.
func (p *Pipeline) clean(t testing.TB) { CleanShared(t, p.Env, p.Database, p.Group) }

// CleanShared removes what a test left on shared servers: its database and
// its durable JetStream consumers (group-prefixed), which would otherwise
// keep tracking every later message. Kafka group offsets expire on their
// own.
func CleanShared(t testing.TB, env *testenv.Env, db, group string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}}); err == nil {
		if err := conn.Exec(ctx, "DROP DATABASE IF EXISTS `"+db+"`"); err != nil {
			t.Logf("kit: drop %s: %v", db, err)
		}
		conn.Close()
	}
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Logf("kit: clean durables: %v", err)
		return
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return
	}
	for name := range js.StreamNames(ctx).Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			continue
		}
		for c := range s.ConsumerNames(ctx).Name() {
			if strings.HasPrefix(c, group+"-") {
				if err := s.DeleteConsumer(ctx, c); err != nil {
					t.Logf("kit: delete consumer %s/%s: %v", name, c, err)
				}
			}
		}
	}
}

func randomID(t testing.TB) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}
