//go:build faults

package faults

import (
	"context"
	"testing"
	"time"

	"github.com/tributary-io/tributary/tests/testenv"
)

// TestIngestClickHouseOutage stops ClickHouse (SIGKILL) for 20 s while the
// consumer ingests. Writers retry, handlers block, consumption pauses at
// the in-flight bound; nothing may be dead-lettered, and once ClickHouse
// is back every event lands exactly once.
func TestIngestClickHouseOutage(t *testing.T) {
	env := testenv.Private(t)
	servers := env.ServersOrFail(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(faultEvents)
	conn := openCH(ctx, t, env, db)

	proc := startIngest(t, bin, env, db, group)
	p := publishMix(ctx, t, env, tenant, want)
	waitDistinct(ctx, t, conn, "auth_events", tenant, 1000)
	if err := servers.Kill(testenv.ClickHouse); err != nil {
		t.Fatalf("kill clickhouse: %v", err)
	}
	t.Logf("ClickHouse killed after %d events published", p.acked.Load())
	time.Sleep(15 * time.Second) // not a poll: the outage lasts 15 + 5 s on purpose
	// Mid-outage: writers hold at most the in-flight bound, handlers block,
	// nothing fails or is poisoned, consumption has paused.
	t.Log("consumer during the outage:")
	logStats(t, proc)
	time.Sleep(5 * time.Second)
	restart := time.Now()
	if err := servers.Start(testenv.ClickHouse); err != nil {
		t.Fatalf("start clickhouse: %v", err)
	}
	t.Logf("ClickHouse back after %s", time.Since(restart).Round(time.Millisecond))
	resumed := waitGrowth(ctx, t, conn, tenant)
	p.wait(t, want.total())
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	t.Logf("RECOVERY clickhouse-outage: rows growing %s after ClickHouse start began; all %d events landed %s after it; consumer peak RSS %d MiB",
		resumed.Sub(restart).Round(time.Millisecond), want.total(), end.Sub(restart).Round(time.Millisecond), proc.peakRSS())
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, proc)
}

// TestIngestScaleOut runs three instances of one consumer group; they share
// the Kafka partitions and the JetStream durables. One is SIGKILLed
// mid-stream: its partitions move to the survivors after the session
// timeout and its un-acked JetStream messages are redelivered after
// AckWait (both 10 s by default); then a new instance joins, and every
// event lands exactly once.
func TestIngestScaleOut(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(faultEvents)
	conn := openCH(ctx, t, env, db)

	var procs []*ingestProc
	for range 3 {
		procs = append(procs, startIngest(t, bin, env, db, group))
	}
	// Let the three join before publishing, so the kill hits a shared group.
	time.Sleep(5 * time.Second)
	p := publishMix(ctx, t, env, tenant, want)
	waitDistinct(ctx, t, conn, "auth_events", tenant, 3000)
	killed := time.Now()
	rss := procs[1].peakRSS()
	procs[1].kill(t)
	t.Logf("instance 2 of 3 SIGKILLed after %d events published (its peak RSS %d MiB)", p.acked.Load(), rss)
	// And one joins: the group rebalances a second time, mid-stream.
	time.Sleep(2 * time.Second)
	procs = append(procs, startIngest(t, bin, env, db, group))
	t.Logf("a fourth instance joined %s after the kill", time.Since(killed).Round(time.Millisecond))
	p.wait(t, want.total())
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	t.Logf("RECOVERY scale-out: all %d events landed %s after the kill; survivors' peak RSS %d and %d MiB",
		want.total(), end.Sub(killed).Round(time.Millisecond), procs[0].peakRSS(), procs[2].peakRSS())
	checkExactlyOnce(ctx, t, conn, tenant, want)
	logStats(t, procs[0])
	logStats(t, procs[2])
}
