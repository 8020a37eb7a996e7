//go:build faults

package faults

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	detect "github.com/tributary-io/tributary/processors/service"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestDetectorFutureEvent: one tenant's event stamped in 2100, then normal
// traffic of another tenant with 30 brute-force bursts. Before issue 11's
// fix the detectors decoded with a zero now, the 2100 event moved the auth
// family's one watermark, and every later event of every tenant was
// ignored as late: none of the 30 was found. Now the event is refused
// against the real clock (and counted), watermarks are per tenant, and
// every burst is an anomaly row.
func TestDetectorFutureEvent(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	id := suffix(t)
	bad, good, db := "fb"+id, "fg"+id, "faults_"+id
	startIngest(t, buildIngest(t), env, db, "ingest-"+id)
	conn := openCH(ctx, t, env, db)
	d := startDetect(ctx, t, env, "detect-"+id, nil)
	sdk := dialSDK(ctx, t, env)

	// The future-dated event goes around the SDK, which would refuse it.
	future := loginFailed(t, bad, "mallory", "203.0.113.66")
	future.Time = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	publishRaw(ctx, t, env, "auth."+bad+".login.failed", future)
	// Wait until the detector has handled it, so the good traffic comes
	// after.
	poll.Eventually(t, time.Minute, 200*time.Millisecond, func() error {
		if n := d.metricPrefix(ctx, t, `tributary_messages_total{handler="auth-`, `outcome="acked"`); n < 1 {
			return fmt.Errorf("detector acked %v auth events, want the future-dated one", n)
		}
		return nil
	})

	const victims, tries = 30, 10 // 8 failures in 1m make a burst
	start := time.Now()
	for v := range victims {
		for range tries {
			ev := loginFailed(t, good, fmt.Sprintf("victim-%02d", v), fmt.Sprintf("198.51.100.%d", v+1))
			if _, err := sdk.Publish(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}
	var found map[string]int
	wctx, wcancel := context.WithTimeout(ctx, 2*time.Minute)
	defer wcancel()
	err := poll.Until(wctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		found = anomalyCounts(ctx, t, conn, good, "brute_force_user")
		if len(found) < victims {
			return false, fmt.Errorf("%d of %d brute_force_user anomalies of tenant %s landed", len(found), victims, good)
		}
		return true, nil
	})
	recovery := time.Since(start)
	// Ingest dead-letters the 2100 event (ErrClockSkew); wait for its row so
	// the count below is final.
	dctx, dcancel := context.WithTimeout(ctx, 30*time.Second)
	defer dcancel()
	_ = poll.Until(dctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		return deadLetters(ctx, t, conn, bad) > 0, nil
	})
	missing, dup := victims-len(found), duplicates(found)
	deadBad, deadGood := deadLetters(ctx, t, conn, bad), deadLetters(ctx, t, conn, good)
	t.Logf("FUTURE-EVENT: missing %d of %d anomalies, duplicated-after-FINAL %d, dead-lettered %d of tenant %s (the 2100 event, refused by ingest) and %d of tenant %s, recovery %.1f s (first good event to last anomaly row)",
		missing, victims, dup, deadBad, bad, deadGood, good, recovery.Seconds())
	if err != nil {
		t.Fatalf("another tenant's future-dated event blinded the detector: %v", err)
	}
	if dup != 0 || deadGood != 0 || deadBad != 1 {
		t.Errorf("duplicated %d, dead-lettered %d good / %d bad (want 0, 0, 1)", dup, deadGood, deadBad)
	}
	if late := d.metric(ctx, t, `tributary_detect_ignored_total{family="auth",reason="clock_skew",service="detect"}`); late != 1 {
		t.Errorf("clock_skew ignored %v, want exactly the one future-dated event", late)
	}
}

// TestDetectorRestartWithManyUsers: the auth detector learns 100,000
// users (a 20 MB snapshot, about 17.6 MB in the issue: far above NATS's
// 1 MiB max payload, where the checkpoint used to be refused with a warning
// only), restarts, and must still know every one: a login of a sample of
// them from the far side of the world, seconds after their last, is
// impossible travel only if their previous login survived the restart.
func TestDetectorRestartWithManyUsers(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 12*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "fr"+id, "faults_"+id, "detect-"+id
	startIngest(t, buildIngest(t), env, db, "ingest-"+id)
	conn := openCH(ctx, t, env, db)
	logs := &recorder{}
	d := startDetect(ctx, t, env, group, logs)

	const users, every = 100_000, 100 // the sample: every 100th user
	loginAt := func(u int, country string, lat, lon float64) schemas.Envelope {
		ev, err := schemas.NewEvent("//tributary/faults", tenant, schemas.LoginSucceeded{AuthOrigin: schemas.AuthOrigin{
			User: fmt.Sprintf("user-%06d", u), SourceIP: "192.0.2.10", Geo: &schemas.Geo{Country: country, Lat: lat, Lon: lon}},
			Method: schemas.MethodPassword})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	start := time.Now()
	publishAsync(ctx, t, env, users, func(i int) schemas.Envelope { return loginAt(i, "DE", 52.5, 13.4) })
	t.Logf("published %d logins of distinct users in %s", users, time.Since(start).Round(time.Millisecond))
	poll.Eventually(t, 5*time.Minute, time.Second, func() error {
		if n := d.metricPrefix(ctx, t, `tributary_messages_total{handler="auth-`, `outcome="acked"`); n < users {
			return fmt.Errorf("detector acked %v of %d auth events", n, users)
		}
		return nil
	})
	t.Logf("detector consumed all %d in %s", users, time.Since(start).Round(time.Millisecond))

	d.stop(t) // the final checkpoint
	m, maxPayload := readManifest(ctx, t, env, group+".auth.head")
	t.Logf("checkpoint of %d users: %d bytes of JSON stored as %d bytes zstd in %d chunks of at most %d (generation %d); server max payload %d",
		users, m.Raw, m.Bytes, m.Chunks, checkpointChunk, m.Gen, maxPayload)
	// The old single put of the raw snapshot is refused above the server's
	// max payload; the chunks must be more than one to test their assembly.
	if int64(m.Raw) <= maxPayload || m.Chunks < 2 {
		t.Errorf("checkpoint of %d raw bytes in %d chunks: the test crosses neither the max payload (%d) nor a chunk", m.Raw, m.Chunks, maxPayload)
	}
	restart := time.Now()
	d = startDetect(ctx, t, env, group, logs)
	restoreTook := time.Since(restart)
	if !logs.has("detect: state restored", "key="+group+".auth.head") {
		t.Errorf("no state restored for %s.auth.head; log:\n%s", group, logs.String())
	}
	if !d.healthy(ctx) {
		t.Error("/healthz not ok after the restore")
	}

	// Sydney, seconds after Berlin: only a user whose Berlin login survived
	// the restart can be impossible travel.
	sample := users / every
	publishAsync(ctx, t, env, sample, func(i int) schemas.Envelope { return loginAt(i*every, "AU", -33.9, 151.2) })
	var found map[string]int
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Minute)
	defer wcancel()
	err := poll.Until(wctx, 500*time.Millisecond, func(ctx context.Context) (bool, error) {
		found = anomalyCounts(ctx, t, conn, tenant, "impossible_travel")
		if len(found) < sample {
			return false, fmt.Errorf("%d of %d impossible_travel anomalies landed", len(found), sample)
		}
		return true, nil
	})
	recovery := time.Since(restart)
	missing, dup, dead := sample-len(found), duplicates(found), deadLetters(ctx, t, conn, tenant)
	t.Logf("RESTART-100K: missing %d of %d sampled users' state, duplicated-after-FINAL %d, dead-lettered %d, restore %.1f s, recovery %.1f s (restart to last anomaly row)",
		missing, sample, dup, dead, restoreTook.Seconds(), recovery.Seconds())
	if err != nil {
		t.Fatalf("state lost over the restart: %v", err)
	}
	// Every user, not only the sample: the first checkpoint after the
	// restart is no smaller than the last one before it (the sample's
	// logins only add to it).
	raw := `tributary_checkpoint_bytes{family="auth",form="raw",service="detect"}`
	poll.Eventually(t, 30*time.Second, 500*time.Millisecond, func() error {
		if n := d.metric(ctx, t, raw); n < float64(m.Raw) {
			return fmt.Errorf("checkpoint after the restart %v bytes, before it %d", n, m.Raw)
		}
		return nil
	})
	t.Logf("first checkpoint after the restart: %.0f bytes of JSON (before: %d)", d.metric(ctx, t, raw), m.Raw)
	if dup != 0 || dead != 0 {
		t.Errorf("duplicated %d, dead-lettered %d (want 0, 0)", dup, dead)
	}
	if n := d.metric(ctx, t, `tributary_checkpoint_failures_total{family="auth",service="detect"}`); n != 0 {
		t.Errorf("%v checkpoint saves failed", n)
	}
}

// TestDetectorConsumerDeleted: deleting a detector's durable JetStream
// consumer ends that handler while the router runs the others; /healthz
// must stop saying ok and name it. (daemon.Health, which follows every
// handler's Stopped channel, already does: the subscriber's pull iterator
// ends on the server's "consumer deleted" status and closes the handler's
// channel. This test keeps it so.)
func TestDetectorConsumerDeleted(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	group := "detect-" + suffix(t)
	d := startDetect(ctx, t, env, group, nil)
	poll.Eventually(t, time.Minute, 200*time.Millisecond, func() error {
		if code, body := d.get(ctx, "/readyz"); code != http.StatusOK {
			return fmt.Errorf("/readyz %d %s", code, body)
		}
		return nil
	})
	if code, body := d.get(ctx, "/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz %d %q before the fault", code, body)
	}
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	stream, err := js.StreamNameBySubject(ctx, "auth.>")
	if err != nil {
		t.Fatal(err)
	}
	var deleted []string
	for name := range mustStream(ctx, t, js, stream).ConsumerNames(ctx).Name() {
		if strings.HasPrefix(name, group+"-auth") {
			if err := js.DeleteConsumer(ctx, stream, name); err != nil {
				t.Fatal(err)
			}
			deleted = append(deleted, name)
		}
	}
	if len(deleted) != 1 {
		t.Fatalf("deleted consumers %v on stream %s, want the auth detector's one", deleted, stream)
	}
	start := time.Now()
	var code int
	var body string
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	defer wcancel()
	err = poll.Until(wctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if code, body = d.get(ctx, "/healthz"); code == http.StatusOK {
			return false, fmt.Errorf("/healthz still ok")
		}
		return true, nil
	})
	t.Logf("CONSUMER-DELETED: durable %s deleted; /healthz %d after %.1f s: %s", deleted[0], code, time.Since(start).Seconds(), strings.TrimSpace(body))
	if err != nil {
		t.Fatalf("/healthz says ok %s after the durable was deleted: %v", time.Since(start).Round(time.Millisecond), err)
	}
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "auth-auth_") {
		t.Errorf("/healthz = %d %q, want 503 naming the auth handler", code, body)
	}
}

// checkpointChunk is NATS's default max payload less the checkpointer's
// headroom: the local stack raises max_payload to 8 MB, and a production
// server keeps 1 MiB, so chunks are cut as there.
const checkpointChunk = 1<<20 - 1024

// detector is the detector service running in-process.
type detector struct {
	url  string
	stop func(t *testing.T)
}

// startDetect runs the detectors on env with group until stop or the
// test's end; its logs (warnings and worse, and restores) go to rec if set.
func startDetect(ctx context.Context, t *testing.T, env *testenv.Env, group string, rec *recorder) *detector {
	t.Helper()
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	log := testLogger()
	if rec != nil {
		log = slog.New(rec)
	}
	cfg := detect.Config{NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Group: group, HTTPAddr: addr,
		CheckpointInterval: 5 * time.Second, CheckpointChunkBytes: checkpointChunk}
	runCtx, cancel := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- detect.RunDetectors(runCtx, cfg, log, ready) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("detectors failed to start: %v", err)
	}
	var once sync.Once
	stop := func(t *testing.T) {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("detectors stopped with %v", err)
			}
		})
	}
	t.Cleanup(func() { stop(t) })
	return &detector{url: "http://" + addr, stop: stop}
}

func (d *detector) get(ctx context.Context, path string) (int, string) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.url+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (d *detector) healthy(ctx context.Context) bool {
	code, _ := d.get(ctx, "/healthz")
	return code == http.StatusOK
}

// metricPrefix sums the series whose name starts with prefix and that
// contain every one of labels.
func (d *detector) metricPrefix(ctx context.Context, t *testing.T, prefix string, labels ...string) float64 {
	t.Helper()
	code, body := d.get(ctx, "/metrics")
	if code != http.StatusOK {
		t.Fatalf("/metrics: %d %s", code, body)
	}
	sum := 0.0
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if i < 0 || !strings.HasPrefix(line, prefix) {
			continue
		}
		ok := true
		for _, l := range labels {
			ok = ok && strings.Contains(line[:i], l)
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil && ok {
			sum += v
		}
	}
	return sum
}

// metric is one series' value, 0 while absent.
func (d *detector) metric(ctx context.Context, t *testing.T, series string) float64 {
	t.Helper()
	return d.metricPrefix(ctx, t, series+" ")
}

func dialSDK(ctx context.Context, t *testing.T, env *testenv.Env) *publish.Conn {
	t.Helper()
	conn, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/faults"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Provision: true})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// publishAsync publishes n events through the SDK's async client and
// waits for every acknowledgement.
func publishAsync(ctx context.Context, t *testing.T, env *testenv.Env, n int, ev func(i int) schemas.Envelope) {
	t.Helper()
	conn := dialSDK(ctx, t, env)
	var acked, failed atomic.Int64
	var first sync.Once
	async, err := conn.NewAsync(publish.AsyncConfig{Workers: 8, MaxBatch: 512, OnResult: func(r publish.Result) {
		if r.Err != nil {
			failed.Add(1)
			first.Do(func() { t.Errorf("publish: %v", r.Err) })
			return
		}
		acked.Add(1)
	}})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		async.Publish(ctx, ev(i))
	}
	async.Close()
	if acked.Load() != int64(n) {
		t.Fatalf("published %d of %d events (%d failed)", acked.Load(), n, failed.Load())
	}
}

func loginFailed(t *testing.T, tenant, user, ip string) schemas.Envelope {
	t.Helper()
	ev, err := schemas.NewEvent("//tributary/faults", tenant, schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: user, SourceIP: ip},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

// publishRaw puts an event on a JetStream subject as the SDK would, but
// without its validation: how a producer with a broken clock (or another
// client library) gets an event onto the bus.
func publishRaw(ctx context.Context, t *testing.T, env *testenv.Env, subject string, ev schemas.Envelope) {
	t.Helper()
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(ev.ID, message.Payload(ev.Data))
	for k, v := range ev.Metadata() {
		msg.Metadata.Set(k, v)
	}
	if err := pub.PublishContext(ctx, subject, msg); err != nil {
		t.Fatalf("publish to %s: %v", subject, err)
	}
}

// anomalyCounts is the FINAL row count per entity of tenant's anomalies of
// kind.
func anomalyCounts(ctx context.Context, t *testing.T, conn driver.Conn, tenant, kind string) map[string]int {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT entity_id, count() FROM anomalies FINAL WHERE tenant = ? AND kind = ? GROUP BY entity_id", tenant, kind)
	if err != nil {
		return nil // the table appears with ingest's first start
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var e string
		var n uint64
		if err := rows.Scan(&e, &n); err != nil {
			t.Fatal(err)
		}
		out[e] = int(n)
	}
	return out
}

// duplicates is how many rows beyond one per entity: one incident
// reported twice.
func duplicates(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c - 1
	}
	return n
}

// deadLetters counts tenant's dead letters (by the tenant header).
func deadLetters(ctx context.Context, t *testing.T, conn driver.Conn, tenant string) int {
	t.Helper()
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM dead_letters WHERE has(`headers.value`, ?)", tenant).Scan(&n); err != nil {
		t.Fatalf("dead_letters: %v", err)
	}
	return int(n)
}

// manifest is the part of a checkpoint head the test reads.
type manifest struct {
	Gen    uint64 `json:"gen"`
	Chunks int    `json:"chunks"`
	Bytes  int    `json:"bytes"`
	Raw    int    `json:"raw"`
}

// readManifest reads a checkpoint head, and the server's max payload.
func readManifest(ctx context.Context, t *testing.T, env *testenv.Env, key string) (manifest, int64) {
	t.Helper()
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, _ := jetstream.New(nc)
	kv, err := js.KeyValue(ctx, "tributary_detector_state")
	if err != nil {
		t.Fatal(err)
	}
	e, err := kv.Get(ctx, key)
	if err != nil {
		t.Fatalf("checkpoint head %s: %v", key, err)
	}
	var m manifest
	if err := json.Unmarshal(e.Value(), &m); err != nil {
		t.Fatal(err)
	}
	return m, nc.MaxPayload()
}

func mustStream(ctx context.Context, t *testing.T, js jetstream.JetStream, name string) jetstream.Stream {
	t.Helper()
	s, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// recorder is a slog handler that keeps every record as text (info and
// up) and prints warnings and worse to the test's stderr.
type recorder struct {
	mu    sync.Mutex
	lines []string
}

func (r *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

func (r *recorder) Handle(_ context.Context, rec slog.Record) error {
	var b strings.Builder
	b.WriteString(rec.Level.String() + " " + rec.Message)
	rec.Attrs(func(a slog.Attr) bool {
		b.WriteString(" " + a.Key + "=" + a.Value.String())
		return true
	})
	r.mu.Lock()
	r.lines = append(r.lines, b.String())
	r.mu.Unlock()
	if rec.Level >= slog.LevelWarn {
		fmt.Println(b.String())
	}
	return nil
}

func (r *recorder) WithAttrs([]slog.Attr) slog.Handler { return r }
func (r *recorder) WithGroup(string) slog.Handler      { return r }

func (r *recorder) has(parts ...string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(l, p)
		}
		if ok {
			return true
		}
	}
	return false
}

func (r *recorder) String() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return strings.Join(r.lines, "\n")
}
