// Package loadgen tests the producer side on real brokers: the SDK's sync
// and async paths, a scenario run of the simulator, and the JSON-lines
// publisher. Each test uses its own tenant, so JetStream subject counts are
// exact even while others publish to the same streams.
package loadgen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/producers/jsonlines"
	"github.com/tributary-io/tributary/producers/loadgen"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

func tenant(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "lg" + hex.EncodeToString(b)
}

func dial(t *testing.T, ctx context.Context, env *testenv.Env) *publish.Conn {
	t.Helper()
	conn, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/loadgen-test"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Provision: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// stored counts the messages JetStream holds under subjects matching filter.
func stored(t *testing.T, ctx context.Context, env *testenv.Env, stream, filter string) int {
	t.Helper()
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	s, err := js.Stream(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, c := range info.State.Subjects {
		n += int(c)
	}
	return n
}

func TestSDKPublishesToBothBrokers(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := dial(t, ctx, env)
	tn := tenant(t)

	login, err := schemas.NewEvent("//x", tn, schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "198.51.100.4"},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
	if err != nil {
		t.Fatal(err)
	}
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	got, err := conn.Publish(publish.ContextWithTraceParent(ctx, tp), login)
	if err != nil || got.TraceParent != tp {
		t.Fatalf("sync publish: %v (traceparent %q)", err, got.TraceParent)
	}
	// Publishing the same event again is deduplicated by JetStream.
	if _, err := conn.Publish(ctx, got); err != nil {
		t.Fatal(err)
	}

	async, err := conn.NewAsync(publish.AsyncConfig{Buffer: 64, Workers: 4})
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	var futures []*publish.Future
	for i := range n {
		var p schemas.Payload = schemas.LoginSucceeded{AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("u%d", i), SourceIP: "198.51.100.5"},
			Method: schemas.MethodPassword}
		if i%2 == 1 {
			p = schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: tn + "-h", Service: "agent"}, Name: "cpu.usage", Value: float64(i)}
		}
		ev, err := schemas.NewEvent("//x", tn, p)
		if err != nil {
			t.Fatal(err)
		}
		futures = append(futures, async.Publish(ctx, ev))
	}
	bad := login
	bad.ID, bad.Tenant = "", ""
	refused := async.Publish(ctx, bad)
	if err := async.Close(); err != nil {
		t.Fatal(err)
	}
	for i, f := range futures {
		if r := f.Result(); r.Err != nil {
			t.Fatalf("async event %d: %v", i, r.Err)
		}
	}
	if r := refused.Result(); r.Err == nil || !strings.Contains(r.Err.Error(), `"tenant"`) {
		t.Fatalf("invalid event result %v, want an error naming tenant", r.Err)
	}
	if c := stored(t, ctx, env, "AUTH", "auth."+tn+".>"); c != 1+n/2 {
		t.Fatalf("JetStream holds %d events of tenant %s, want %d", c, tn, 1+n/2)
	}
	m := conn.Metrics()
	if k := m.Transports[schemas.TransportKafka]; k.Published != n/2 || k.Latency.Count != n/2 {
		t.Fatalf("kafka metrics %+v, want %d acked", k, n/2)
	}
	t.Logf("metrics: %+v", m)
}

func TestSimulatorRunOnRealBrokers(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := dial(t, ctx, env)
	tn := tenant(t)
	sc, err := sim.Parse([]byte(fmt.Sprintf(`name: it
duration: 6s
day: 3s
rhythm: 0.3
tenants:
  - {name: %s, users: 50, hosts: 3, task_types: [{type: export.csv, duration: 100ms}],
     rates: {logins: 100, tasks: 40, logs: 40}, heartbeat_interval: 1s, metric_interval: 500ms}
anomalies:
  - {kind: brute_force_user, at: 1s, duration: 3s, rate: 20}
  - {kind: silent_host, at: 2s, duration: 3s}
`, tn)))
	if err != nil {
		t.Fatal(err)
	}
	var truth bytes.Buffer
	rep, err := loadgen.Run(ctx, loadgen.Config{Scenario: sc, Seed: 11, Speed: 2}, conn.Client, &truth)
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Summary())
	if rep.Failed != 0 || rep.Published != rep.Events || rep.Events < 1000 {
		t.Fatalf("run %+v", rep)
	}
	if lines := strings.Count(truth.String(), "\n"); lines != 2 {
		t.Fatalf("ground truth has %d lines, want 2:\n%s", lines, truth.String())
	}
	js := rep.Metrics.Transports[schemas.TransportJetStream].Published
	if c := stored(t, ctx, env, "AUTH", "auth."+tn+".>") + stored(t, ctx, env, "TASKS", "task."+tn+".>"); uint64(c) != js {
		t.Fatalf("JetStream holds %d events of the run, the publisher had %d acked", c, js)
	}
}

func TestJSONLinesOnRealBrokers(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn := dial(t, ctx, env)
	tn := tenant(t)
	line := `{"specversion":"1.0","source":"//tributary/auth","type":"io.tributary.auth.login.failed","tenant":"` + tn +
		`","schemaversion":"1","data":{"user":"alice","source_ip":"%s","method":"password","reason":"bad_credentials"}}`
	input := fmt.Sprintf(line, "198.51.100.4") + "\n" + fmt.Sprintf(line, "not-an-ip") + "\n"
	var out bytes.Buffer
	st, err := jsonlines.Process(ctx, "", strings.NewReader(input), 1<<20, conn, &out)
	if err != nil {
		t.Fatal(err)
	}
	report := strings.Split(strings.TrimSpace(out.String()), "\n")
	if st.Accepted != 1 || st.Failed != 1 || len(report) != 2 ||
		!strings.HasPrefix(report[0], "line 1: accepted ") || !strings.Contains(report[1], `line 2: `) ||
		!strings.Contains(report[1], `field "source_ip"`) {
		t.Fatalf("stats %+v, report:\n%s", st, out.String())
	}
	if c := stored(t, ctx, env, "AUTH", "auth."+tn+".>"); c != 1 {
		t.Fatalf("JetStream holds %d events of tenant %s, want 1", c, tn)
	}
}
