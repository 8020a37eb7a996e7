package ingest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/segmentio/kafka-go"

	chmig "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/tests/testenv"
)

// The peer: Redpanda Connect doing the same job (kafka_franz in,
// sql_insert with the ClickHouse driver out), configured as the ingest
// issue measured it: batches of 5,000 rows or 200 ms, 4 in flight.
const (
	peerLabel     = "Redpanda Connect v4.61.0 (kafka_franz → sql_insert)"
	peerBatchRows = 5000
	peerBatchWait = "200ms"
	peerInFlight  = 4
)

// peerDir is the peer's own module (tests/bench/peer/connect).
func peerDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "peer", "connect")
}

// buildConnect builds the peer from Go modules. The module lives outside
// go.work and is the only build that may skip the checksum database for
// github.com/redpanda-data (it has no entry for that Connect version).
func buildConnect(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "redpanda-connect")
	start := time.Now()
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = peerDir()
	cmd.Env = append(os.Environ(), "GOWORK=off", "GONOSUMDB=github.com/redpanda-data", "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build Redpanda Connect in %s: %v\n%s", cmd.Dir, err, tail(string(out), 3000))
	}
	b.Logf("built Redpanda Connect in %s", time.Since(start).Round(time.Second))
	return bin
}

// peerConfig maps the events as tributary-ingest does: CloudEvents
// attributes from the Kafka headers, the row from the JSON payload.
func peerConfig(env *testenv.Env, db string) string {
	return fmt.Sprintf(`http:
  enabled: false
logger:
  level: WARN
input:
  kafka_franz:
    seed_brokers: [%q]
    topics: ["telemetry.metrics"]
    consumer_group: %q
    start_from_oldest: true
    # Kafka's default of 1,024 unacknowledged records per partition would
    # cap every batch below 5,000.
    checkpoint_limit: %d
output:
  sql_insert:
    driver: clickhouse
    dsn: "clickhouse://%s/%s"
    table: telemetry_metrics
    columns: [event_id, tenant, host, service, name, value, unit, labels.key, labels.value, event_time, ingest_time]
    args_mapping: |
      let labels = this.labels | {}
      root = [
        @ce_id, @ce_tenant, this.host, this.service, this.name, this.value.number(), this.unit | "",
        $labels.keys(), $labels.values(),
        @ce_time.ts_parse("2006-01-02T15:04:05.999999999Z07:00"), now().ts_parse("2006-01-02T15:04:05.999999999Z07:00"),
      ]
    max_in_flight: %d
    batching:
      count: %d
      period: %s
`, strings.Join(env.KafkaBrokers, ","), db, 2*peerInFlight*peerBatchRows, env.ClickHouseAddr, db, peerInFlight, peerBatchRows, peerBatchWait)
}

// prepareDatabase creates db with Tributary's own migrations, so the peer
// writes into the same tables (materialized views included) as the ingest.
func prepareDatabase(ctx context.Context, b *testing.B, env *testenv.Env, db string) {
	admin, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}})
	if err != nil {
		b.Fatal(err)
	}
	defer admin.Close()
	if err := admin.Exec(ctx, "CREATE DATABASE IF NOT EXISTS `"+db+"`"); err != nil {
		b.Fatalf("create database %s: %v", db, err)
	}
	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}, Auth: clickhouse.Auth{Database: db}})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	if _, err := chmig.Migrate(ctx, conn, nil); err != nil {
		b.Fatalf("migrate %s: %v", db, err)
	}
}

// runConnect runs the peer on the Kafka metrics backlog into a fresh
// database and group, measured like runIngest: from launch until the table
// holds every record.
func runConnect(ctx context.Context, b *testing.B, env *testenv.Env, bin, db string, j job) result {
	prepareDatabase(ctx, b, env, db)
	dir := b.TempDir()
	cfg := filepath.Join(dir, "connect.yaml")
	if err := os.WriteFile(cfg, []byte(peerConfig(env, db)), 0o644); err != nil {
		b.Fatal(err)
	}
	servers := startServerClock(b, env)
	cmd, logPath, start, stop := launch(b, dir, "connect.log", bin, "run", cfg)
	defer stop()
	// A peer that cannot write retries for ever: a run that lands nothing
	// in a few minutes is a broken configuration, not a slow peer.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	firstRow, peak, err := landed(ctx, env, cmd, start, db, j, func() {})
	wall := time.Since(start)
	if err != nil {
		log, _ := os.ReadFile(logPath)
		b.Fatalf("Redpanda Connect did not land the backlog: %v\n%s", err, tail(string(log), 3000))
	}
	chCPU, brCPU := servers.used()
	return result{wall: wall, firstRow: firstRow, ingestCPU: cpuOf(cmd.Process.Pid), chCPU: chCPU, brokersCPU: brCPU,
		rowsPerSec: float64(j.events()) / wall.Seconds(), peakRSS: peak}
}

// rawKafka is the client's own limit: kafka-go reading the backlog in a
// fresh group and marking each record, doing nothing else. Timed from the
// first record to the last (the group join is not the client's rate), CPU
// is this process's.
func rawKafka(ctx context.Context, b *testing.B, env *testenv.Env) result {
	r := kafka.NewReader(kafka.ReaderConfig{
		Brokers: env.KafkaBrokers, GroupID: fmt.Sprintf("raw_%d", time.Now().UnixNano()), Topic: "telemetry.metrics",
		MinBytes: 1, MaxBytes: 16 << 20, MaxWait: 200 * time.Millisecond,
		StartOffset: kafka.FirstOffset, CommitInterval: time.Second,
	})
	defer r.Close()
	var first time.Time
	cpu0 := selfCPU()
	for i := range records {
		m, err := r.FetchMessage(ctx)
		if err != nil {
			b.Fatalf("raw kafka-go: after %d of %d records: %v", i, records, err)
		}
		if i == 0 {
			first = time.Now()
		}
		if err := r.CommitMessages(ctx, m); err != nil {
			b.Fatalf("raw kafka-go: commit: %v", err)
		}
	}
	wall := time.Since(first)
	return result{wall: wall, ingestCPU: selfCPU() - cpu0, rowsPerSec: float64(records) / wall.Seconds()}
}

// rawInsert is ClickHouse's own limit: clickhouse-client inserting the
// rows an earlier run landed (in src), in Native format, into a fresh
// database with the same tables, from a file.
func rawInsert(ctx context.Context, b *testing.B, env *testenv.Env, src string) result {
	host, port, _ := strings.Cut(env.ClickHouseAddr, ":")
	client := func(query string) *exec.Cmd {
		return exec.CommandContext(ctx, "clickhouse-client", "--host", host, "--port", port, "--query", query)
	}
	file := filepath.Join(b.TempDir(), "rows.native")
	f, err := os.Create(file)
	if err != nil {
		b.Fatal(err)
	}
	dump := client("SELECT * FROM `" + src + "`.telemetry_metrics FORMAT Native")
	var stderr strings.Builder
	dump.Stdout, dump.Stderr = f, &stderr
	if err := dump.Run(); err != nil {
		b.Fatalf("clickhouse-client dump %s: %v\n%s", src, err, stderr.String())
	}
	f.Close()
	dst := fmt.Sprintf("raw_%d", time.Now().UnixNano())
	prepareDatabase(ctx, b, env, dst)
	in, err := os.Open(file)
	if err != nil {
		b.Fatal(err)
	}
	defer in.Close()
	chPID := clickhousePID(b, env.ClickHouseAddr)
	ch0 := cpuOf(chPID)
	load := client("INSERT INTO `" + dst + "`.telemetry_metrics FORMAT Native")
	load.Stdin = in
	start := time.Now()
	if out, err := load.CombinedOutput(); err != nil {
		b.Fatalf("clickhouse-client insert: %v\n%s", err, out)
	}
	wall := time.Since(start)
	return result{wall: wall, chCPU: cpuOf(chPID) - ch0, rowsPerSec: float64(records) / wall.Seconds()}
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
