//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestIngest100k publishes 100,000 events (50,000 on JetStream: auth and
// task; 50,000 on Kafka: metrics, logs, heartbeats) with no consumer
// running, then starts one tributary-ingest and measures how fast each
// transport's backlog lands. The FINAL count, uniqExact(event_id) and the
// published count must agree exactly. Then the poison cases run on the
// same stack.
func TestIngest100k(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db := "f"+id, "faults_"+id
	bin := buildIngest(t)
	want := mixOf(100_000)

	pubStart := time.Now()
	p := publishMix(ctx, t, env, tenant, want)
	p.wait(t, want.total())
	pubTook := time.Since(pubStart)
	t.Logf("published %d events in %s (%.0f events/s, both transports)", want.total(), pubTook.Round(time.Millisecond),
		float64(want.total())/pubTook.Seconds())

	start := time.Now()
	proc := startIngest(t, bin, env, db, "ingest-"+id, "-max-event-size", "262144")
	conn := openCH(ctx, t, env, db)
	js := trackTransport(ctx, t, conn, tenant, want, jetStreamTables)
	kafka := trackTransport(ctx, t, conn, tenant, want, kafkaTables)
	jsRes, kRes := <-js, <-kafka
	// The rate runs from a transport's first row to its last, so start-up
	// (migrations, provisioning, Kafka group joins) is left out; the
	// second figure includes it.
	for _, r := range []transportResult{jsRes, kRes} {
		name := "jetstream"
		if r.tables[0] == kafkaTables[0] {
			name = "kafka"
		}
		t.Logf("THROUGHPUT %s: %d events, first row %s after start, all %s after start: %.0f events/s steady (%.0f events/s including start-up)",
			name, r.events, r.first.Sub(start).Round(time.Millisecond), r.last.Sub(start).Round(time.Millisecond),
			float64(r.events)/r.last.Sub(r.first).Seconds(), float64(r.events)/r.last.Sub(start).Seconds())
	}
	first, last := earliest(jsRes.first, kRes.first), latest(jsRes.last, kRes.last)
	t.Logf("THROUGHPUT both transports at once: %d events in %s from the first row = %.0f events/s; consumer peak RSS %d MiB",
		want.total(), last.Sub(first).Round(time.Millisecond), float64(want.total())/last.Sub(first).Seconds(), proc.peakRSS())
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, proc)

	t.Run("poison", func(t *testing.T) { testPoison(ctx, t, env, conn, tenant) })
}

type transportResult struct {
	tables      []string
	events      int
	first, last time.Time
}

// trackTransport polls a transport's tables and reports when the first row
// landed and when all had.
func trackTransport(ctx context.Context, t *testing.T, conn driver.Conn, tenant string, want mix, tables []string) <-chan transportResult {
	out := make(chan transportResult, 1)
	go func() {
		r := transportResult{tables: tables}
		for _, table := range tables {
			r.events += want[table]
		}
		err := poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
			n := 0
			for _, table := range tables {
				n += max(distinct(ctx, conn, table, tenant), 0)
			}
			if n > 0 && r.first.IsZero() {
				r.first = time.Now()
			}
			if n < r.events {
				return false, fmt.Errorf("%d of %d events landed", n, r.events)
			}
			return true, nil
		})
		r.last = time.Now()
		if err != nil {
			t.Errorf("%v: not every event landed: %v", tables, err)
		}
		out <- r
	}()
	return out
}

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
