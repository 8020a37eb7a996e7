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

// brokerRestartEvents is the backlog each broker-restart test drains.
const brokerRestartEvents = 50_000

// TestIngestNATSRestart and TestIngestKafkaRestart restart one broker
// (stop, start: its data kept) while ingest drains a backlog on both
// transports. The consumer must reconnect by itself and finish: every
// event exactly once, nothing dead-lettered.
func TestIngestNATSRestart(t *testing.T) {
	brokerRestart(t, testenv.NATS, jetStreamTables)
}

func TestIngestKafkaRestart(t *testing.T) {
	brokerRestart(t, testenv.Kafka, kafkaTables)
}

func brokerRestart(t *testing.T, server string, tables []string) {
	env := testenv.Private(t)
	servers := env.ServersOrFail(t)
	ctx, cancel := context.WithTimeout(context.Background(), 6*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(brokerRestartEvents)
	conn := openCH(ctx, t, env, db)

	// The backlog is published first: the test is about the consumer.
	p := publishMix(ctx, t, env, tenant, want)
	p.wait(t, want.total())
	proc := startIngest(t, bin, env, db, group)
	waitDistinct(ctx, t, conn, tables[0], tenant, 2000)

	before := landedIn(ctx, conn, tables, tenant)
	stopped := time.Now()
	if err := servers.Restart(server); err != nil {
		t.Fatalf("restart %s: %v", server, err)
	}
	back := time.Now()
	t.Logf("%s restarted in %s with %d of its transport's events landed", server, back.Sub(stopped).Round(time.Millisecond), before)
	total := 0
	for _, table := range tables {
		total += want[table]
	}
	resumed := growthIn(ctx, t, conn, tables, tenant, total)
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	f := measure(ctx, t, conn, tenant, want)
	t.Logf("FIGURES %s-restart (%d events, ingest draining): %s, stall %.1f s (restart began to its rows growing again), recovery %.1f s (restart done to every event landed)",
		server, want.total(), f, resumed.Sub(stopped).Seconds(), end.Sub(back).Seconds())
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, proc)
}

func landedIn(ctx context.Context, conn driver.Conn, tables []string, tenant string) int {
	n := 0
	for _, table := range tables {
		n += max(distinct(ctx, conn, table, tenant), 0)
	}
	return n
}

// growthIn returns when the tables' distinct rows first exceed what they
// hold now (the restarted transport's events flow again), or at once when
// all total of them landed already.
func growthIn(ctx context.Context, t *testing.T, conn driver.Conn, tables []string, tenant string, total int) time.Time {
	t.Helper()
	base := landedIn(ctx, conn, tables, tenant)
	err := poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if n := landedIn(ctx, conn, tables, tenant); n <= base && n < total {
			return false, fmt.Errorf("%v still at %d rows", tables, n)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("no progress after the restart: %v", err)
	}
	return time.Now()
}
