package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// Freshness is event time to row visible, at a fixed publishing rate, with
// the ingest already running (a live stream, not a backlog).
var freshnessRates = []int{5_000, 20_000}

// freshnessFor is how long each rate is held.
const freshnessFor = 15 * time.Second

// BenchmarkIngestFreshness publishes Kafka metrics at each fixed rate while
// tributary-ingest runs and reports p50 and p99 of the time from an
// event's time to its row being visible in ClickHouse.
//
// Visibility is read by polling count() every 10 ms: the k-th event
// published is taken as visible when the table first holds k rows. Rows
// of different partitions land in a different order from the one they
// were published in, so this pairs an event with a row of about its age,
// not with itself; at a steady rate that is the same distribution.
func BenchmarkIngestFreshness(b *testing.B) {
	env := testenv.Private(b)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	bin := buildIngest(b)
	conn := dialPublisher(ctx, b, env)
	defer conn.Close()
	// Each run's fresh group starts from the earliest offset, so it first
	// reads what the runs before it published: published counts it, and
	// timing starts once the table holds it all.
	published := 0
	var rows []freshnessRow
	for n := 1; b.Loop(); n++ {
		db := fmt.Sprintf("fresh_%d", time.Now().UnixNano())
		stop := startIngest(ctx, b, env, bin, db)
		ch, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}})
		if err != nil {
			b.Fatal(err)
		}
		base := uint64(published)
		if err := waitRows(ctx, ch, db, base); err != nil {
			b.Fatalf("earlier runs' events: %v", err)
		}
		// A first trickle, so the group join and the first insert are behind
		// us before anything is timed.
		warm := measureFreshness(ctx, b, conn, ch, db, 100, base, true).events
		base += uint64(warm)
		published += warm
		var lines []string
		for _, rate := range freshnessRates {
			f := measureFreshness(ctx, b, conn, ch, db, rate, base, false)
			base += uint64(f.events)
			published += f.events
			lines = append(lines, fmt.Sprintf("| %d | %.0f | %d | %s | %s | %s |", rate, f.achieved, f.events,
				f.p50.Round(time.Millisecond), f.p99.Round(time.Millisecond), f.max.Round(time.Millisecond)))
			b.ReportMetric(f.p99.Seconds(), fmt.Sprintf("p99-s@%dk/s", rate/1000))
			rows = append(rows, freshnessRow{Run: n, Target: rate, Published: f.achieved, Events: f.events,
				P50Ms: ms(f.p50), P99Ms: ms(f.p99), MaxMs: ms(f.max)})
		}
		ch.Close()
		stop()
		fmt.Printf("\nfreshness (event time to row visible), tributary-ingest %s:\n| target events/s | published/s | events | p50 | p99 | max |\n|---|---|---|---|---|---|\n%s\n",
			strings.Join(ingestFlags(), " "), strings.Join(lines, "\n"))
	}
	if data, err := json.MarshalIndent(rows, "", "  "); err == nil {
		_ = os.MkdirAll(outDir(), 0o755)
		_ = os.WriteFile(filepath.Join(outDir(), "bench-ingest-freshness.json"), data, 0o644)
	}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

type freshness struct {
	events        int
	achieved      float64
	p50, p99, max time.Duration
}

// freshnessRow is one line of out/bench-ingest-freshness.json.
type freshnessRow struct {
	Run       int     `json:"run"`
	Target    int     `json:"target_events_per_s"`
	Published float64 `json:"published_events_per_s"`
	Events    int     `json:"events"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	MaxMs     float64 `json:"max_ms"`
}

// measureFreshness publishes at rate for freshnessFor and waits until every
// event is visible; base is the number of rows already in the table.
func measureFreshness(ctx context.Context, b *testing.B, conn *publish.Conn, ch clickhouse.Conn, db string, rate int, base uint64, warmUp bool) freshness {
	n := rate * int(freshnessFor/time.Second)
	if warmUp {
		n = rate // one second
	}
	times := make([]time.Time, n)
	var failed atomic.Int64
	async, err := conn.NewAsync(publish.AsyncConfig{Workers: 8, MaxBatch: 1024, OnResult: func(r publish.Result) {
		if r.Err != nil {
			failed.Add(1)
		}
	}})
	if err != nil {
		b.Fatal(err)
	}

	// The observer: when the table first held each count.
	type sample struct {
		at time.Time
		n  uint64
	}
	var (
		mu      sync.Mutex
		samples []sample
	)
	obsCtx, stopObs := context.WithCancel(ctx)
	obsDone := make(chan struct{})
	go func() {
		defer close(obsDone)
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			var c uint64
			if err := ch.QueryRow(obsCtx, "SELECT count() FROM `"+db+"`.telemetry_metrics").Scan(&c); err == nil {
				mu.Lock()
				samples = append(samples, sample{time.Now(), c - base})
				mu.Unlock()
			}
			select {
			case <-obsCtx.Done():
				return
			case <-t.C:
			}
		}
	}()

	// Paced in 10 ms slots, so the rate holds within each 10 ms.
	const slot = 10 * time.Millisecond
	perSlot := rate / int(time.Second/slot)
	start := time.Now()
	for i := 0; i < n; {
		for k := 0; k < perSlot && i < n; k++ {
			p := schemas.MetricSample{
				TelemetrySource: schemas.TelemetrySource{Host: fmt.Sprintf("host-%02d", i%40), Service: "api"},
				Name:            "cpu.usage", Value: float64(i % 100),
			}
			e, err := schemas.NewEvent("//tributary/bench", "acme", p)
			if err != nil {
				b.Fatal(err)
			}
			times[i] = e.Time
			async.Publish(ctx, e)
			i++
		}
		if d := time.Until(start.Add(time.Duration(i/perSlot) * slot)); d > 0 {
			time.Sleep(d)
		}
	}
	achieved := float64(n) / time.Since(start).Seconds()
	async.Close()
	if failed.Load() > 0 {
		b.Fatalf("%d of %d publishes failed at %d/s", failed.Load(), n, rate)
	}
	err = poll.Until(ctx, 50*time.Millisecond, func(context.Context) (bool, error) {
		mu.Lock()
		defer mu.Unlock()
		if len(samples) > 0 && samples[len(samples)-1].n >= uint64(n) {
			return true, nil
		}
		return false, fmt.Errorf("%d of %d rows visible", last(samples, func(s sample) uint64 { return s.n }), n)
	})
	stopObs()
	<-obsDone
	if err != nil {
		b.Fatalf("at %d events/s: %v", rate, err)
	}

	lat := make([]time.Duration, 0, n)
	j := 0
	for k := range n {
		for j < len(samples) && samples[j].n < uint64(k+1) {
			j++
		}
		lat = append(lat, samples[j].at.Sub(times[k]))
	}
	slices.Sort(lat)
	return freshness{events: n, achieved: achieved, p50: lat[n/2], p99: lat[n*99/100], max: lat[n-1]}
}

// waitRows waits until db's metrics table holds at least n rows.
func waitRows(ctx context.Context, ch clickhouse.Conn, db string, n uint64) error {
	return poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		var c uint64
		if err := ch.QueryRow(ctx, "SELECT count() FROM `"+db+"`.telemetry_metrics").Scan(&c); err != nil {
			return false, err
		}
		if c < n {
			return false, fmt.Errorf("%d of %d rows", c, n)
		}
		return true, nil
	})
}

func last[T any, V any](s []T, f func(T) V) V {
	var zero V
	if len(s) == 0 {
		return zero
	}
	return f(s[len(s)-1])
}

// ingestFlags are the extra flags INGEST_FLAGS gives the ingest.
func ingestFlags() []string { return strings.Fields(os.Getenv("INGEST_FLAGS")) }

// startIngest runs tributary-ingest on db until the returned stop, once it
// is ready (subscribed, migrations applied).
func startIngest(ctx context.Context, b *testing.B, env *testenv.Env, bin, db string) (stop func()) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	args := append([]string{"-nats-url", env.NATSURL, "-kafka-brokers", strings.Join(env.KafkaBrokers, ","), "-clickhouse-addr", env.ClickHouseAddr,
		"-clickhouse-database", db, "-group", db, "-http", addr, "-stats-interval", "-1s"}, ingestFlags()...)
	logPath := filepath.Join(b.TempDir(), "ingest.log")
	lf, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	stop = func() { _ = cmd.Process.Kill(); _ = cmd.Wait(); lf.Close() }
	err = poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return false, fmt.Errorf("readyz %s", resp.Status)
		}
		return true, nil
	})
	if err != nil {
		stop()
		log, _ := os.ReadFile(logPath)
		b.Fatalf("ingest not ready: %v\n%s", err, tail(string(log), 3000))
	}
	return stop
}
