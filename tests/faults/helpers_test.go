//go:build faults

package faults

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

func suffix(t *testing.T) string {
	t.Helper()
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// buildIngest compiles the real tributary-ingest binary into a temp dir.
func buildIngest(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "tributary-ingest")
	start := time.Now()
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tributary-io/tributary/consumers/cmd/tributary-ingest").CombinedOutput()
	if err != nil {
		t.Fatalf("go build tributary-ingest: %v\n%s", err, out)
	}
	t.Logf("built tributary-ingest in %s", time.Since(start).Round(time.Millisecond))
	return bin
}

// ingestProc is one tributary-ingest subprocess.
type ingestProc struct {
	cmd     *exec.Cmd
	httpURL string
	log     string
	done    chan error
}

// startIngest runs the binary against env with the given database and
// group; extra flags are appended. Its log goes to a file in the test's
// temp dir and is printed if the test fails.
func startIngest(t *testing.T, bin string, env *testenv.Env, db, group string, extra ...string) *ingestProc {
	t.Helper()
	port := freePort(t)
	args := []string{
		"-nats-url", env.NATSURL, "-kafka-brokers", strings.Join(env.KafkaBrokers, ","), "-clickhouse-addr", env.ClickHouseAddr,
		"-clickhouse-database", db, "-group", group, "-http", "127.0.0.1:" + strconv.Itoa(port), "-stats-interval", "5s",
	}
	args = append(args, extra...)
	logPath := filepath.Join(t.TempDir(), "ingest.log")
	lf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ingest: %v", err)
	}
	p := &ingestProc{cmd: cmd, httpURL: fmt.Sprintf("http://127.0.0.1:%d", port), log: logPath, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait(); lf.Close() }()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			if b, err := os.ReadFile(logPath); err == nil {
				t.Logf("ingest pid %d log (tail):\n%s", cmd.Process.Pid, tail(string(b), 40))
			}
		}
	})
	return p
}

func (p *ingestProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("SIGKILL ingest: %v", err)
	}
	<-p.done
}

// peakRSS is the process's high-water resident set (VmHWM), in MiB.
func (p *ingestProc) peakRSS() int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return kb >> 10
		}
	}
	return -1
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// mix is how many events of each table a run publishes; JetStream carries
// auth and task, Kafka the three telemetry topics.
type mix map[string]int

// mixOf splits n events: 30% auth, 30% task, 20% metrics, 10% logs, 10%
// heartbeats (the remainder goes to auth).
func mixOf(n int) mix {
	m := mix{"task_events": n * 3 / 10, "telemetry_metrics": n * 2 / 10, "telemetry_logs": n / 10, "telemetry_heartbeats": n / 10}
	m["auth_events"] = n - m["task_events"] - m["telemetry_metrics"] - m["telemetry_logs"] - m["telemetry_heartbeats"]
	return m
}

func (m mix) total() int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

var jetStreamTables = []string{"auth_events", "task_events"}
var kafkaTables = []string{"telemetry_metrics", "telemetry_logs", "telemetry_heartbeats"}

// event builds the i-th event of table for tenant.
func event(t *testing.T, table, tenant string, i int) schemas.Envelope {
	var p schemas.Payload
	src := schemas.TelemetrySource{Host: fmt.Sprintf("host-%d", i%50), Service: "api"}
	switch table {
	case "auth_events":
		p = schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("user-%d", i%200), SourceIP: "192.0.2.10"},
			Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials}
	case "task_events":
		now := time.Now().UTC()
		p = schemas.TaskSucceeded{TaskRef: schemas.TaskRef{TaskID: fmt.Sprintf("task-%d", i), TaskType: "export.csv", Queue: "q", Attempt: 1},
			TaskRun: schemas.TaskRun{Worker: "w", StartedAt: now.Add(-time.Second), FinishedAt: now, DurationMS: 1000}}
	case "telemetry_metrics":
		p = schemas.MetricSample{TelemetrySource: src, Name: "cpu.usage", Value: float64(i%100) / 100, Labels: map[string]string{"zone": "a"}}
	case "telemetry_logs":
		p = schemas.LogRecord{TelemetrySource: src, Severity: schemas.SeverityInfo, Body: "request served"}
	case "telemetry_heartbeats":
		p = schemas.Heartbeat{TelemetrySource: src, IntervalMS: 10000}
	}
	env, err := schemas.NewEvent("//tributary/faults", tenant, p)
	if err != nil {
		t.Fatalf("NewEvent: %v", err)
	}
	return env
}

// publisher publishes a mix asynchronously through the SDK and counts
// acknowledged events, so a test can act "mid-stream".
type publisher struct {
	acked  atomic.Int64
	failed atomic.Int64
	done   chan struct{}
}

func publishMix(ctx context.Context, t *testing.T, env *testenv.Env, tenant string, m mix) *publisher {
	t.Helper()
	return publishMixRetrying(ctx, t, env, tenant, m, publish.RetryConfig{})
}

// publishMixRetrying is publishMix with the SDK's retry budget set.
func publishMixRetrying(ctx context.Context, t *testing.T, env *testenv.Env, tenant string, m mix, retry publish.RetryConfig) *publisher {
	t.Helper()
	conn, err := publish.Dial(ctx, publish.DialConfig{
		Config:  publish.Config{Source: "//tributary/faults", Retry: retry},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Provision: true, Replicas: env.Replicas,
	})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	p := &publisher{done: make(chan struct{})}
	var firstErr sync.Once
	async, err := conn.NewAsync(publish.AsyncConfig{Workers: 8, MaxBatch: 512, OnResult: func(r publish.Result) {
		if r.Err != nil {
			p.failed.Add(1)
			firstErr.Do(func() { t.Errorf("publish: %v", r.Err) })
			return
		}
		p.acked.Add(1)
	}})
	if err != nil {
		t.Fatalf("async: %v", err)
	}
	go func() {
		defer close(p.done)
		defer conn.Close()
		defer async.Close()
		// Interleave tables so both transports progress together.
		left := map[string]int{}
		for k, v := range m {
			left[k] = v
		}
		for i := 0; len(left) > 0; i++ {
			for _, table := range append(append([]string{}, jetStreamTables...), kafkaTables...) {
				if left[table] == 0 {
					delete(left, table)
					continue
				}
				left[table]--
				async.Publish(ctx, event(t, table, tenant, i))
			}
		}
	}()
	return p
}

func (p *publisher) wait(t *testing.T, want int) {
	t.Helper()
	<-p.done
	if got := p.acked.Load(); got != int64(want) {
		t.Fatalf("published %d of %d events (%d failed)", got, want, p.failed.Load())
	}
}

// waitAcked blocks until at least n events are acknowledged.
func (p *publisher) waitAcked(ctx context.Context, t *testing.T, n int64) {
	t.Helper()
	err := poll.Until(ctx, 50*time.Millisecond, func(context.Context) (bool, error) {
		if got := p.acked.Load(); got < n {
			return false, fmt.Errorf("%d of %d events published", got, n)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func openCH(ctx context.Context, t *testing.T, env *testenv.Env, db string) driver.Conn {
	t.Helper()
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}, Auth: clickhouse.Auth{Database: db},
		DialTimeout: 2 * time.Second, ReadTimeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// distinct is uniqExact(event_id) of a tenant's rows in table, or -1 while
// the query fails (ClickHouse down, table not yet created).
func distinct(ctx context.Context, conn driver.Conn, table, tenant string) int {
	var n uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+table+" WHERE tenant = ?", tenant).Scan(&n); err != nil {
		return -1
	}
	return int(n)
}

// waitDistinct waits until table holds at least n distinct events of the
// tenant: rows are flowing.
func waitDistinct(ctx context.Context, t *testing.T, conn driver.Conn, table, tenant string, n int) {
	t.Helper()
	err := poll.Until(ctx, 50*time.Millisecond, func(ctx context.Context) (bool, error) {
		if got := distinct(ctx, conn, table, tenant); got < n {
			return false, fmt.Errorf("%s holds %d of %d events (-1: query failing)", table, got, n)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// waitLanded polls until every table of tables holds want[table] distinct
// events and returns when each finished, measured from since.
func waitLanded(ctx context.Context, t *testing.T, conn driver.Conn, tenant string, want mix, tables []string) time.Time {
	t.Helper()
	err := poll.Until(ctx, 250*time.Millisecond, func(ctx context.Context) (bool, error) {
		done := true
		var status []string
		for _, table := range tables {
			n := distinct(ctx, conn, table, tenant)
			status = append(status, fmt.Sprintf("%s %d/%d", table, n, want[table]))
			if n != want[table] {
				done = false
			}
		}
		if !done {
			return false, fmt.Errorf("landed %s", strings.Join(status, ", "))
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("not every event landed: %v", err)
	}
	return time.Now()
}

// checkExactlyOnce asserts the documented query forms: per table, the
// FINAL view's row count equals uniqExact(event_id) equals the published
// count, and they add up to the total; nothing was dead-lettered.
func checkExactlyOnce(ctx context.Context, t *testing.T, conn driver.Conn, tenant string, want mix) {
	t.Helper()
	var sumFinal, sumDistinct, sumRaw uint64
	for table, n := range want {
		var final, uniq, raw uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+table+" FINAL WHERE tenant = ?", tenant).Scan(&final); err != nil {
			t.Fatalf("%s FINAL: %v", table, err)
		}
		if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id), count() FROM "+table+" WHERE tenant = ?", tenant).Scan(&uniq, &raw); err != nil {
			t.Fatalf("%s uniqExact: %v", table, err)
		}
		if final != uniq || uniq != uint64(n) {
			t.Errorf("%s: FINAL count %d, uniqExact %d, want %d", table, final, uniq, n)
		}
		sumFinal, sumDistinct, sumRaw = sumFinal+final, sumDistinct+uniq, sumRaw+raw
	}
	t.Logf("exactly-once view: FINAL count %d, distinct event ids %d, want %d (raw rows before merges: %d, %d redelivered copies collapsed by FINAL)",
		sumFinal, sumDistinct, want.total(), sumRaw, sumRaw-sumDistinct)
	var dead uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM dead_letters").Scan(&dead); err != nil || dead != 0 {
		t.Errorf("dead_letters holds %d rows (err %v): a good event was dead-lettered", dead, err)
	}
}

func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}
