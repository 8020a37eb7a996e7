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
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// The peer: Redpanda Connect doing the same job (kafka_franz in,
// sql_insert with the ClickHouse driver out), configured as the ingest
// issue measured it: batches of 5,000 rows or 200 ms, 4 in flight.
const (
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

// runConnect runs the peer on the backlog into a fresh database and group,
// measured like runIngest: from launch until the table holds every record.
func runConnect(ctx context.Context, b *testing.B, env *testenv.Env, bin, db string) result {
	prepareDatabase(ctx, b, env, db)
	dir := b.TempDir()
	cfg := filepath.Join(dir, "connect.yaml")
	if err := os.WriteFile(cfg, []byte(peerConfig(env, db)), 0o644); err != nil {
		b.Fatal(err)
	}
	logPath := filepath.Join(dir, "connect.log")
	lf, err := os.Create(logPath)
	if err != nil {
		b.Fatal(err)
	}
	defer lf.Close()
	chPID := clickhousePID(b, env.ClickHouseAddr)
	chStart := cpuOf(chPID)

	cmd := exec.Command(bin, "run", cfg)
	cmd.Stdout, cmd.Stderr = lf, lf
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() { _ = cmd.Process.Kill(); <-exited }()
	// A peer that cannot write retries for ever: a run that lands nothing
	// for a minute is a broken configuration, not a slow peer.
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{env.ClickHouseAddr}})
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	var peak int64
	err = poll.Until(ctx, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
		peak = max(peak, rssOf(cmd.Process.Pid))
		var n uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM `"+db+"`.telemetry_metrics").Scan(&n); err != nil {
			return false, err
		}
		if n >= records {
			return true, nil
		}
		select {
		case err := <-exited:
			exited <- err
			return true, fmt.Errorf("Redpanda Connect exited (%v) with %d of %d rows", err, n, records)
		default:
		}
		if n == 0 && time.Since(start) > time.Minute {
			return true, fmt.Errorf("no rows after a minute")
		}
		return false, fmt.Errorf("%d of %d rows", n, records)
	})
	wall := time.Since(start)
	if err != nil {
		log, _ := os.ReadFile(logPath)
		b.Fatalf("Redpanda Connect did not land the backlog: %v\n%s", err, tail(string(log), 3000))
	}
	return result{wall: wall, ingestCPU: cpuOf(cmd.Process.Pid), chCPU: cpuOf(chPID) - chStart,
		rowsPerSec: records / wall.Seconds(), peakRSS: peak}
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
	return result{wall: wall, ingestCPU: selfCPU() - cpu0, rowsPerSec: records / wall.Seconds()}
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
	return result{wall: wall, chCPU: cpuOf(chPID) - ch0, rowsPerSec: records / wall.Seconds()}
}

// selfCPU is this process's user+system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkPeerKafkaMetrics runs the peer and the raw limits on the Kafka
// metrics job.
func BenchmarkPeerKafkaMetrics(b *testing.B) {
	env := testenv.Private(b)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	publishMetrics(ctx, b, env, records)
	bin := buildConnect(b)
	for b.Loop() {
		db := fmt.Sprintf("peer_%d", time.Now().UnixNano())
		r := runConnect(ctx, b, env, bin, db)
		fmt.Printf("\nRedpanda Connect: %d records in %.2fs = %.0f rows/s; its CPU %.2fs (%.1f µs/record); ClickHouse CPU %.2fs (%.1f µs/row); peak RSS %d MiB\n",
			records, r.wall.Seconds(), r.rowsPerSec, r.ingestCPU.Seconds(), r.ingestCPU.Seconds()*1e6/records,
			r.chCPU.Seconds(), r.chCPU.Seconds()*1e6/records, r.peakRSS>>20)
		k := rawKafka(ctx, b, env)
		fmt.Printf("raw kafka-go: %.0f records/s, %.1f µs/record\n", k.rowsPerSec, k.ingestCPU.Seconds()*1e6/records)
		c := rawInsert(ctx, b, env, db)
		fmt.Printf("clickhouse-client Native insert: %.0f rows/s, ClickHouse %.1f µs/row\n", c.rowsPerSec, c.chCPU.Seconds()*1e6/records)
	}
}
