// Package ingest measures tributary-ingest the way a user would: the real
// binary on a private stack, a backlog on the brokers (telemetry metrics
// on Kafka; auth events on JetStream; every family at once on both), a
// fresh group and database per run, timed from launch until the tables
// hold them all. make bench-ingest runs each twice; it prints a table of
// rows/s, CPU per record of the ingest and of ClickHouse and peak RSS (and
// writes it to out/bench-ingest-*.json), and writes profiles of the ingest
// to out/ingest.cpu.pprof (Kafka metrics) and out/ingest-<job>.cpu.pprof.
package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// Records is the backlog size the ingest issue measured against.
const records = 158_420

// job is one backlog to ingest: events of one or more families on their
// default transports, each landing in its table.
type job struct {
	name  string // in the table's title and out/bench-ingest-<file>.json
	file  string
	parts []part
}

// part is n events of one family, made by event, landing in table.
type part struct {
	table string
	n     int
	event func(i int) schemas.Payload
}

// events is the job's size.
func (j job) events() int {
	n := 0
	for _, p := range j.parts {
		n += p.n
	}
	return n
}

// countQuery counts the job's rows in db with one query, so polling costs
// ClickHouse one query whatever the number of tables.
func (j job) countQuery(db string) string {
	counts := make([]string, len(j.parts))
	for i, p := range j.parts {
		counts[i] = "(SELECT count() FROM `" + db + "`." + p.table + ")"
	}
	return "SELECT " + strings.Join(counts, " + ")
}

func metric(i int) schemas.Payload {
	return schemas.MetricSample{
		TelemetrySource: schemas.TelemetrySource{Host: fmt.Sprintf("host-%02d", i%40), Service: "api"},
		Name:            []string{"cpu.usage", "mem.used", "net.rx", "disk.io"}[i%4],
		Value:           float64(i%1000) / 10,
		Labels:          map[string]string{"zone": "a"},
	}
}

func loginFailed(i int) schemas.Payload {
	return schemas.LoginFailed{
		AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("user-%03d", i%500), SourceIP: fmt.Sprintf("192.0.2.%d", i%250+1)},
		Method:     schemas.MethodPassword, Reason: schemas.ReasonBadCredentials,
	}
}

func taskSucceeded(i int) schemas.Payload {
	end := time.Now().UTC()
	return schemas.TaskSucceeded{
		TaskRef: schemas.TaskRef{TaskID: fmt.Sprintf("task-%d", i), TaskType: []string{"export.csv", "email.send", "report.build"}[i%3], Queue: "default", Attempt: 1},
		TaskRun: schemas.TaskRun{Worker: fmt.Sprintf("worker-%d", i%20), StartedAt: end.Add(-time.Second), FinishedAt: end, DurationMS: 1000},
	}
}

func logRecord(i int) schemas.Payload {
	return schemas.LogRecord{TelemetrySource: schemas.TelemetrySource{Host: fmt.Sprintf("host-%02d", i%40), Service: "api"},
		Severity: schemas.SeverityInfo, Body: "request served"}
}

func heartbeat(i int) schemas.Payload {
	return schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: fmt.Sprintf("host-%02d", i%40), Service: "api"}, IntervalMS: 10000}
}

var (
	kafkaMetrics = job{name: "Kafka metrics", file: "kafka-metrics", parts: []part{{"telemetry_metrics", records, metric}}}
	// The auth family's default route is JetStream (auth.<tenant>.<type>).
	jetStreamAuth = job{name: "JetStream auth events", file: "jetstream-auth", parts: []part{{"auth_events", 100_000, loginFailed}}}
	// Every family at once, in the proportions the ingest issue measured
	// (369k events, 261k of them on JetStream): auth and task events on
	// JetStream, metrics, logs and heartbeats on Kafka.
	allFamilies = job{name: "All families", file: "all-families", parts: []part{
		{"auth_events", 130_000, loginFailed},
		{"task_events", 131_000, taskSucceeded},
		{"telemetry_metrics", 54_000, metric},
		{"telemetry_logs", 27_000, logRecord},
		{"telemetry_heartbeats", 27_000, heartbeat},
	}}
)

// prefix names the job's files in out/: ingest.* for the Kafka metrics
// job (the one the README quotes), ingest-<file>.* for the others.
func (j job) prefix() string {
	if j.file == kafkaMetrics.file {
		return "ingest"
	}
	return "ingest-" + j.file
}

func BenchmarkIngestKafkaMetrics(b *testing.B) { benchIngest(b, kafkaMetrics) }

func BenchmarkIngestJetStreamAuth(b *testing.B) { benchIngest(b, jetStreamAuth) }

func BenchmarkIngestAllFamilies(b *testing.B) { benchIngest(b, allFamilies) }

func benchIngest(b *testing.B, j job) {
	env := testenv.Private(b)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	publishEvents(ctx, b, env, j)
	warmKafka(ctx, b, env)
	bin := buildIngest(b)
	extra := strings.Fields(os.Getenv("INGEST_FLAGS"))
	label := "tributary-ingest " + strings.Join(extra, " ")
	if os.Getenv("INGEST_BIN") != "" {
		label += " (" + filepath.Base(os.Getenv("INGEST_BIN")) + ")"
	}
	// On the Kafka metrics job the peer runs right after each of our runs,
	// on the same records (BENCH_PEER=off leaves it out: its first build
	// takes about 80 s).
	peer := j.file == kafkaMetrics.file && os.Getenv("BENCH_PEER") != "off"
	var connect string
	if peer {
		connect = buildConnect(b)
	}
	var runs []run
	var ratios []string
	lastPeerDB := ""
	for n := 1; b.Loop(); n++ {
		db := fmt.Sprintf("bench_%d", time.Now().UnixNano())
		r := runIngest(ctx, b, env, bin, db, j, extra)
		b.ReportMetric(r.rowsPerSec, "rows/s")
		b.ReportMetric(r.ingestCPU.Seconds()*1e6/float64(j.events()), "ingest-µs/record")
		b.ReportMetric(r.chCPU.Seconds()*1e6/float64(j.events()), "clickhouse-µs/row")
		b.ReportMetric(float64(r.peakRSS)/(1<<20), "peak-MiB")
		these := []run{r.row(label, n, j.events())}
		if peer {
			lastPeerDB = fmt.Sprintf("peer_%d", time.Now().UnixNano())
			p := runConnect(ctx, b, env, connect, lastPeerDB, j)
			these = append(these, p.row(peerLabel, n, j.events()))
			ratios = append(ratios, fmt.Sprintf("run %d: %.2f× Redpanda Connect's rows/s, %.2f× its CPU per record, %.2f× its ClickHouse CPU per row",
				n, r.rowsPerSec/p.rowsPerSec, r.ingestCPU.Seconds()/p.ingestCPU.Seconds(), r.chCPU.Seconds()/p.chCPU.Seconds()))
		}
		runs = append(runs, these...)
		fmt.Printf("\n%s\n", table(these))
	}
	if peer {
		k := rawKafka(ctx, b, env)
		c := rawInsert(ctx, b, env, lastPeerDB)
		runs = append(runs, k.row("limit: raw kafka-go, read and mark only", 0, j.events()), c.row("limit: clickhouse-client Native insert", 0, j.events()))
		best := 0.0
		for _, r := range runs {
			if r.Consumer == label {
				best = max(best, r.RowsPerSec)
			}
		}
		ratios = append(ratios, fmt.Sprintf("best of ours: %.2f of raw kafka-go's rate, %.2f of clickhouse-client's", best/k.rowsPerSec, best/c.rowsPerSec))
	}
	fmt.Printf("\n%s, %d events, all runs:\n%s\n%s\n", j.name, j.events(), table(runs), strings.Join(ratios, "\n"))
	if data, err := json.MarshalIndent(runs, "", "  "); err == nil {
		_ = os.MkdirAll(outDir(), 0o755)
		_ = os.WriteFile(filepath.Join(outDir(), "bench-ingest-"+j.file+".json"), data, 0o644)
	}
}

// run is one line of the table, and of out/bench-ingest.json.
type run struct {
	Consumer        string  `json:"consumer"`
	Run             int     `json:"run"`
	Records         int     `json:"records"`
	WallSeconds     float64 `json:"wall_s"`
	FirstRowSeconds float64 `json:"first_row_s"` // start-up, migrations, group join
	RowsPerSec      float64 `json:"rows_per_s"`
	IngestUSPerRec  float64 `json:"ingest_cpu_us_per_record"`
	CHUSPerRow      float64 `json:"clickhouse_cpu_us_per_row"`
	BrokersUSPerRec float64 `json:"brokers_cpu_us_per_record"`
	Inserts         int     `json:"inserts,omitempty"`
	InsertsPerSec   float64 `json:"inserts_per_s,omitempty"`
	PeakRSSMiB      int64   `json:"peak_rss_mib"`
}

func (r result) row(consumer string, n, events int) run {
	return run{Consumer: consumer, Run: n, Records: events, WallSeconds: r.wall.Seconds(), FirstRowSeconds: r.firstRow.Seconds(),
		RowsPerSec: r.rowsPerSec, IngestUSPerRec: r.ingestCPU.Seconds() * 1e6 / float64(events), CHUSPerRow: r.chCPU.Seconds() * 1e6 / float64(events),
		BrokersUSPerRec: r.brokersCPU.Seconds() * 1e6 / float64(events),
		Inserts:         r.inserts, InsertsPerSec: float64(r.inserts) / (r.wall - r.firstRow).Seconds(),
		PeakRSSMiB: r.peakRSS >> 20}
}

// table renders runs as the README's markdown table.
func table(runs []run) string {
	var sb strings.Builder
	sb.WriteString("| consumer | run | rows/s | wall (first row) | consumer CPU/record | ClickHouse CPU/row | inserts/s (rows each) | NATS+Kafka CPU/record | peak RSS |\n|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range runs {
		inserts := ""
		if r.Inserts > 0 {
			inserts = fmt.Sprintf("%.1f (%d)", r.InsertsPerSec, r.Records/r.Inserts)
		}
		fmt.Fprintf(&sb, "| %s | %d | %.0f | %.2f s (%.2f s) | %.1f µs | %.1f µs | %s | %.1f µs | %d MiB |\n",
			r.Consumer, r.Run, r.RowsPerSec, r.WallSeconds, r.FirstRowSeconds, r.IngestUSPerRec, r.CHUSPerRow, inserts, r.BrokersUSPerRec, r.PeakRSSMiB)
	}
	return sb.String()
}

type result struct {
	wall, ingestCPU, chCPU time.Duration
	brokersCPU             time.Duration // NATS and Kafka, over the run
	inserts                int           // ClickHouse inserts it made (0: not known)
	firstRow               time.Duration // from launch: start-up, migrations and the group join
	rowsPerSec             float64
	peakRSS                int64
}

// dialPublisher connects the benchmark's publisher to the stack,
// provisioning streams and topics.
func dialPublisher(ctx context.Context, b *testing.B, env *testenv.Env) *publish.Conn {
	conn, err := publish.Dial(ctx, publish.DialConfig{
		Config:  publish.Config{Source: "//tributary/bench"},
		NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, Provision: true,
	})
	if err != nil {
		b.Fatalf("dial: %v", err)
	}
	return conn
}

func publishEvents(ctx context.Context, b *testing.B, env *testenv.Env, j job) {
	conn := dialPublisher(ctx, b, env)
	defer conn.Close()
	var acked, failed atomic.Int64
	async, err := conn.NewAsync(publish.AsyncConfig{Workers: 8, MaxBatch: 1024, OnResult: func(r publish.Result) {
		if r.Err != nil {
			failed.Add(1)
			return
		}
		acked.Add(1)
	}})
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	// Interleaved, so that every family's backlog is there from the start.
	n, most := j.events(), 0
	for _, p := range j.parts {
		most = max(most, p.n)
	}
	for i := range most {
		for _, p := range j.parts {
			if i >= p.n {
				continue
			}
			e, err := schemas.NewEvent("//tributary/bench", "acme", p.event(i))
			if err != nil {
				b.Fatal(err)
			}
			async.Publish(ctx, e)
		}
	}
	async.Close()
	if acked.Load() != int64(n) {
		b.Fatalf("published %d of %d (%d failed)", acked.Load(), n, failed.Load())
	}
	b.Logf("published %d events (%s) in %s", n, j.name, time.Since(start).Round(time.Millisecond))
}

// warmKafka waits until the broker can coordinate consumer groups. On a
// fresh broker the first group lookup creates __consumer_offsets (50
// partitions), about half a second that only the first consumer of the
// stack would pay: the first measured run, ours, never the peer's.
func warmKafka(ctx context.Context, b *testing.B, env *testenv.Env) {
	client := &kafka.Client{Addr: kafka.TCP(env.KafkaBrokers...)}
	err := poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		resp, err := client.FindCoordinator(ctx, &kafka.FindCoordinatorRequest{Key: "bench-warm-up", KeyType: kafka.CoordinatorKeyTypeConsumer})
		if err != nil {
			return false, err
		}
		return resp.Error == nil, resp.Error
	})
	if err != nil {
		b.Fatalf("kafka group coordinator: %v", err)
	}
}

// buildIngest builds tributary-ingest from this tree, or returns
// INGEST_BIN when set: a binary built elsewhere (another commit), so
// before and after are measured by the same harness on the same stack.
func buildIngest(b *testing.B) string {
	if bin := os.Getenv("INGEST_BIN"); bin != "" {
		return bin
	}
	bin := filepath.Join(b.TempDir(), "tributary-ingest")
	out, err := exec.Command("go", "build", "-o", bin, "github.com/tributary-io/tributary/consumers/cmd/tributary-ingest").CombinedOutput()
	if err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func runIngest(ctx context.Context, b *testing.B, env *testenv.Env, bin, db string, j job, extra []string) result {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	// The tables are there before launch, as they are for the peer: both
	// are measured ingesting, not creating a schema (the ingest finds its
	// migrations applied and goes on).
	prepareDatabase(ctx, b, env, db)
	args := append([]string{"-nats-url", env.NATSURL, "-kafka-brokers", strings.Join(env.KafkaBrokers, ","), "-clickhouse-addr", env.ClickHouseAddr,
		"-clickhouse-database", db, "-group", db, "-http", addr, "-stats-interval", "-1s"}, extra...)
	servers := startServerClock(b, env)
	cmd, logPath, start, stop := launch(b, b.TempDir(), "ingest.log", bin, args...)
	defer stop()

	// Profile the busy part of the run: from the first rows landed.
	flowing := make(chan struct{})
	profDone := make(chan struct{})
	go func() {
		defer close(profDone)
		select {
		case <-flowing:
		case <-ctx.Done():
			return
		}
		fetch("http://"+addr+"/debug/pprof/profile?seconds="+strconv.Itoa(profileSeconds()), filepath.Join(outDir(), j.prefix()+".cpu.pprof"))
	}()

	// And what holds memory: the heap 2s into the busy part.
	go func() {
		select {
		case <-flowing:
		case <-ctx.Done():
			return
		}
		time.Sleep(2 * time.Second)
		fetch("http://"+addr+"/debug/pprof/heap", filepath.Join(outDir(), j.prefix()+".heap.pprof"))
		fetch("http://"+addr+"/debug/pprof/heap?debug=1", filepath.Join(outDir(), j.prefix()+".heap.txt"))
	}()

	firstRow, peak, err := landed(ctx, env, cmd, start, db, j, func() { close(flowing) })
	wall := time.Since(start)
	if err != nil {
		log, _ := os.ReadFile(logPath)
		b.Fatalf("ingest did not land the backlog: %v\n%s", err, tail(string(log), 3000))
	}
	ingestCPU := cpuOf(cmd.Process.Pid)
	inserts := insertsOf(b, "http://"+addr+"/metrics")
	// What it waited on, when INGEST_FLAGS has -profile-contention.
	if strings.Contains(strings.Join(extra, " "), "-profile-contention") {
		fetch("http://"+addr+"/debug/pprof/block", filepath.Join(outDir(), j.prefix()+".block.pprof"))
		fetch("http://"+addr+"/debug/pprof/mutex", filepath.Join(outDir(), j.prefix()+".mutex.pprof"))
	}
	// Its log beside the profile: the start-up steps are timed there.
	if log, err := os.ReadFile(logPath); err == nil {
		_ = os.WriteFile(filepath.Join(outDir(), j.prefix()+".log"), log, 0o644)
	}
	chCPU, brCPU := servers.used()
	<-profDone // the ingest idles from here: the profile holds the busy part
	return result{wall: wall, firstRow: firstRow, ingestCPU: ingestCPU, chCPU: chCPU, brokersCPU: brCPU, inserts: inserts, rowsPerSec: float64(j.events()) / wall.Seconds(), peakRSS: peak}
}

// landed waits until db's table holds the job's n rows, sampling the peak
// RSS of the consumer cmd (started at start) as it goes; firstRow is called
// once, when the first rows are there, and its time returned.
func landed(ctx context.Context, env *testenv.Env, cmd *exec.Cmd, start time.Time, db string, j job, firstRow func()) (time.Duration, int64, error) {
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}})
	if err != nil {
		return 0, 0, err
	}
	defer conn.Close()
	var peak int64
	var first time.Duration
	// Every 100ms: each count() costs ClickHouse 1-2ms of CPU, so polling
	// every 20ms added ~1.5-3us per row to the ClickHouse CPU measured.
	err = poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		peak = max(peak, rssOf(cmd.Process.Pid))
		var n uint64
		if err := conn.QueryRow(ctx, j.countQuery(db)).Scan(&n); err != nil {
			return false, err
		}
		if n > 0 && first == 0 {
			first = time.Since(start)
			firstRow()
		}
		if n < uint64(j.events()) {
			if exited(cmd.Process.Pid) {
				return true, fmt.Errorf("%s exited with %d of %d rows", filepath.Base(cmd.Path), n, j.events())
			}
			return false, fmt.Errorf("%d of %d rows", n, j.events())
		}
		return true, nil
	})
	return first, peak, err
}

// insertsOf sums the ingest's tributary_batches_total (inserts ClickHouse
// acknowledged, every table): each is a part written, and another per
// materialized view on the table, which ClickHouse merges later — the
// parts per second the ClickHouse CPU per row depends on.
func insertsOf(b *testing.B, url string) int {
	resp, err := http.Get(url)
	if err != nil {
		b.Logf("inserts: %v", err)
		return 0
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0
	}
	n := 0.0
	for _, line := range strings.Split(string(body), "\n") {
		if !strings.HasPrefix(line, "tributary_batches_total{") {
			continue
		}
		if v, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64); err == nil {
			n += v
		}
	}
	return int(n)
}

// fetch saves url's body to path; a failure leaves no file, which is
// all a profile the run does not depend on needs.
func fetch(url, path string) {
	resp, err := http.Get(url)
	if err != nil {
		return
	}
	defer resp.Body.Close()
	_ = os.MkdirAll(filepath.Dir(path), 0o755)
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_, _ = io.Copy(f, resp.Body)
}

func profileSeconds() int {
	if n, err := strconv.Atoi(os.Getenv("BENCH_PROFILE_SECONDS")); err == nil && n > 0 {
		return n
	}
	return 8
}

func outDir() string {
	if d := os.Getenv("BENCH_OUT"); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "out")
}

// clickhousePID finds the server listening on addr's port, from /proc.
func clickhousePID(b *testing.B, addr string) int { return listenerPID(b, "ClickHouse", addr) }

// listenerPID finds the process listening on addr's port, from /proc.
func listenerPID(b *testing.B, what, addr string) int {
	_, port, _ := net.SplitHostPort(addr)
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		if pid, err := strconv.Atoi(e.Name()); err == nil && owns(pid, port) {
			return pid
		}
	}
	b.Fatalf("no %s process listens on %s", what, addr)
	return 0
}

// brokers is the CPU the stack's brokers have used so far: what a run
// costs NATS and Kafka, beside the consumer and ClickHouse, on a machine
// whose two cores they all share.
type brokers struct{ nats, kafka int }

func brokersOf(b *testing.B, env *testenv.Env) brokers {
	return brokers{nats: listenerPID(b, "NATS", strings.TrimPrefix(env.NATSURL, "nats://")), kafka: listenerPID(b, "Kafka", env.KafkaBrokers[0])}
}

func (br brokers) cpu() time.Duration { return cpuOf(br.nats) + cpuOf(br.kafka) }

// serverClock is the servers' CPU from a point on: what a run cost
// ClickHouse and the brokers.
type serverClock struct {
	ch               int
	br               brokers
	chStart, brStart time.Duration
}

func startServerClock(b *testing.B, env *testenv.Env) serverClock {
	c := serverClock{ch: clickhousePID(b, env.ClickHouseAddr), br: brokersOf(b, env)}
	c.chStart, c.brStart = cpuOf(c.ch), c.br.cpu()
	return c
}

func (c serverClock) used() (clickhouse, brokers time.Duration) {
	return cpuOf(c.ch) - c.chStart, c.br.cpu() - c.brStart
}

// launch starts a consumer, its output in dir/logName; stop kills it and
// waits for it.
func launch(b *testing.B, dir, logName, bin string, args ...string) (cmd *exec.Cmd, logPath string, start time.Time, stop func()) {
	logPath = filepath.Join(dir, logName)
	lf, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	cmd = exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	start = time.Now()
	if err := cmd.Start(); err != nil {
		lf.Close()
		b.Fatal(err)
	}
	return cmd, logPath, start, func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		lf.Close()
	}
}

// owns reports whether pid has a listening socket on port.
func owns(pid int, port string) bool {
	p, _ := strconv.Atoi(port)
	hexPort := fmt.Sprintf(":%04X", p)
	inodes := map[string]bool{}
	for _, f := range []string{"tcp", "tcp6"} {
		data, _ := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "net", f))
		for _, line := range strings.Split(string(data), "\n")[1:] {
			fs := strings.Fields(line)
			if len(fs) > 9 && strings.HasSuffix(fs[1], hexPort) && fs[3] == "0A" {
				inodes[fs[9]] = true
			}
		}
	}
	fds, _ := os.ReadDir(filepath.Join("/proc", strconv.Itoa(pid), "fd"))
	for _, fd := range fds {
		link, _ := os.Readlink(filepath.Join("/proc", strconv.Itoa(pid), "fd", fd.Name()))
		if strings.HasPrefix(link, "socket:[") && inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			return true
		}
	}
	return false
}

// exited tells whether pid has ended (a zombie not yet waited for, or gone):
// a consumer that died will land nothing more.
func exited(pid int) bool {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] == 'Z'
}

// cpuOf is a process's user+system CPU time so far.
func cpuOf(pid int) time.Duration {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	s := string(data)
	fs := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	ut, _ := strconv.ParseInt(fs[11], 10, 64)
	st, _ := strconv.ParseInt(fs[12], 10, 64)
	return time.Duration(ut+st) * time.Second / 100 // USER_HZ
}

func rssOf(pid int) int64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			kb, _ := strconv.ParseInt(strings.Fields(line)[1], 10, 64)
			return kb << 10
		}
	}
	return 0
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
