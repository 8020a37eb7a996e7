package e2e

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/poll"
	detect "github.com/tributary-io/tributary/processors/service"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/kit"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestDetectorService runs the detector service as tributary-detect-stream
// runs it, with ingest, on real servers: a brute-force burst on one user
// and a metric spike must come out as anomaly rows in ClickHouse. Between
// the metric's baseline and its spike the detectors stop and start again:
// fewer points follow the restart than a fresh series needs to score, so
// the spike is found only if the checkpoint carried the baseline over.
func TestDetectorService(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant := "e2e" + id
	icfg := ingestConfig(t, env, id)
	db := icfg.ClickHouse.Database
	startIngest(ctx, t, icfg)
	log := warnLog()

	addr := freeAddr(t)
	dcfg := detect.Config{NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Group: "e2e-" + id + "-detect",
		StartFrom: "latest", AllowLatest: true, HTTPAddr: addr, CheckpointInterval: time.Hour}
	startDetectors := func() func() {
		return runService(ctx, t, "detectors", func(ctx context.Context, ready chan<- struct{}) error {
			return detect.RunDetectors(ctx, dcfg, log, ready)
		})
	}
	stopDetectors := startDetectors()
	t.Cleanup(func() { kit.CleanShared(t, env, db, dcfg.Group) })

	pub, conn := clients(ctx, t, env, db)
	warmUp(ctx, t, pub, conn, tenant+"w")

	send := func(p schemas.Payload) {
		t.Helper()
		ev, err := schemas.NewEvent("//tributary/e2e", tenant, p)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pub.Publish(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	metric := func(host string, v float64) schemas.Payload {
		return schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: host, Service: "api"}, Name: "cpu.usage", Value: v}
	}
	// A Kafka group starting at "latest" fixes its offsets only once it has
	// joined: wait until the telemetry handler has consumed something.
	waitConsuming(ctx, t, "http://"+addr+"/metrics", "telemetry-telemetry_metrics", func() { send(metric("canary", 1)) })

	rng := rand.New(rand.NewPCG(1, 2))
	for range 40 {
		send(metric("h-spike", 50+rng.NormFloat64()))
		time.Sleep(20 * time.Millisecond) // distinct, increasing event times
	}
	// Restart: the final checkpoint saves the baseline, the start restores it.
	stopDetectors()
	stopDetectors = startDetectors()
	defer func() { stopDetectors() }()
	waitConsuming(ctx, t, "http://"+addr+"/metrics", "telemetry-telemetry_metrics", func() { send(metric("canary", 1)) })
	for range 5 {
		send(metric("h-spike", 50+rng.NormFloat64()))
		time.Sleep(20 * time.Millisecond)
	}
	send(metric("h-spike", 120))

	for i := range 12 {
		send(schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "victim", SourceIP: fmt.Sprintf("198.51.100.%d", 10+i%3)},
			Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials})
	}

	want := map[string]string{"brute_force_user": "user:victim", "metric_spike": "series:h-spike/cpu.usage"}
	poll.Eventually(t, 90*time.Second, 250*time.Millisecond, func() error {
		got := anomalies(ctx, t, conn, tenant)
		missing := []string{}
		for kind, entity := range want {
			if !got[kind+" "+entity] {
				missing = append(missing, kind+" "+entity)
			}
		}
		if len(missing) > 0 {
			return fmt.Errorf("no anomaly rows for %v; found %v", missing, got)
		}
		return nil
	})
	m, err := scrape(ctx, "http://"+addr+"/metrics")
	if err != nil {
		t.Fatal(err)
	}
	if m[`tributary_findings_total{family="telemetry",kind="metric_spike",service="detect"}`] < 1 {
		t.Error("/metrics does not count the metric_spike finding")
	}
}

// runService runs a service until the returned stop is called, failing the
// test if it cannot start or stops with an error.
func runService(ctx context.Context, t *testing.T, name string, run func(context.Context, chan<- struct{}) error) func() {
	t.Helper()
	runCtx, cancel := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- run(runCtx, ready) }()
	select {
	case <-ready:
	case err := <-done:
		cancel()
		t.Fatalf("%s failed to start: %v", name, err)
	case <-ctx.Done():
		cancel()
		t.Fatalf("%s not running: %v", name, ctx.Err())
	}
	stopped := false
	return func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s stopped with %v", name, err)
		}
	}
}

// waitConsuming pokes (publishes) until the handler's acked count in
// /metrics grows.
func waitConsuming(ctx context.Context, t *testing.T, url, handler string, poke func()) {
	t.Helper()
	series := fmt.Sprintf(`tributary_messages_total{handler="%s",outcome="acked",service="detect"}`, handler)
	poll.Eventually(t, 30*time.Second, 200*time.Millisecond, func() error {
		poke()
		m, err := scrape(ctx, url)
		if err != nil {
			return fmt.Errorf("scrape: %w", err)
		}
		if m[series] <= 0 {
			return fmt.Errorf("%s consumed nothing", handler)
		}
		return nil
	})
}

// anomalies reads the anomaly rows of tenant as "kind entity_type:entity_id".
func anomalies(ctx context.Context, t *testing.T, conn driver.Conn, tenant string) map[string]bool {
	t.Helper()
	rows, err := conn.Query(ctx, "SELECT kind, entity_type, entity_id FROM anomalies WHERE tenant = ?", tenant)
	if err != nil {
		if strings.Contains(err.Error(), "doesn't exist") {
			return nil
		}
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[string]bool{}
	for rows.Next() {
		var kind, et, eid string
		if err := rows.Scan(&kind, &et, &eid); err != nil {
			t.Fatal(err)
		}
		got[kind+" "+et+":"+eid] = true
	}
	return got
}
