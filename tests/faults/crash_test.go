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

// faultEvents is how many events each fault variant publishes.
const faultEvents = 100_000

// TestIngestSIGKILL kills the real consumer with SIGKILL while it ingests
// and a publisher is still publishing, restarts it, and checks that every
// event lands exactly once in the documented view. Un-acked messages of
// the dead process are redelivered (Kafka: from the committed watermark;
// JetStream: the durable's un-acked set); rows it inserted but never acked
// come again and collapse in FINAL.
func TestIngestSIGKILL(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(faultEvents)
	conn := openCH(ctx, t, env, db)

	first := startIngest(t, bin, env, db, group)
	p := publishMix(ctx, t, env, tenant, want)
	p.waitAcked(ctx, t, int64(want.total()/3))
	// Kill once rows are flowing, so batches are in flight at the kill.
	waitDistinct(ctx, t, conn, "auth_events", tenant, 1000)
	before := distinct(ctx, conn, "auth_events", tenant) + distinct(ctx, conn, "telemetry_metrics", tenant)
	rss := first.peakRSS()
	first.kill(t)
	t.Logf("SIGKILL after %d events published, %d auth+metric rows landed; consumer peak RSS %d MiB", p.acked.Load(), before, rss)

	restart := time.Now()
	second := startIngest(t, bin, env, db, group)
	resumed := waitGrowth(ctx, t, conn, tenant)
	p.wait(t, want.total())
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	// The dead process's un-acked JetStream messages count against the
	// durable's MaxAckPending until AckWait (10s) expires, and its Kafka
	// partitions stay assigned until its session (10s) times out: those
	// two bound the catch-up.
	t.Logf("RECOVERY sigkill: rows growing again %s after restart; all %d events landed %s after restart",
		resumed.Sub(restart).Round(time.Millisecond), want.total(), end.Sub(restart).Round(time.Millisecond))
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, second)
}

// waitGrowth returns when the tenant's distinct row count (all tables)
// first exceeds what it is now: the consumer is making progress again.
func waitGrowth(ctx context.Context, t *testing.T, conn driver.Conn, tenant string) time.Time {
	t.Helper()
	total := func(ctx context.Context) int {
		n := 0
		for _, table := range append(append([]string{}, jetStreamTables...), kafkaTables...) {
			n += max(distinct(ctx, conn, table, tenant), 0)
		}
		return n
	}
	base := total(ctx)
	err := poll.Until(ctx, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if n := total(ctx); n <= base {
			return false, fmt.Errorf("still %d rows", n)
		}
		return true, nil
	})
	if err != nil {
		t.Fatalf("no progress after the fault: %v", err)
	}
	return time.Now()
}
