//go:build faults

package faults

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/tests/testenv"
)

// refusedTables are detached during TestIngestClickHouseRefusesInserts: an
// event table per transport, and dead_letters, so a good event that was
// wrongly dead-lettered could not be stored there either and would be
// lost, which is what issue 11 (item 2) found.
var refusedTables = []string{"auth_events", "telemetry_metrics", "dead_letters"}

// TestIngestClickHouseRefusesInserts keeps ClickHouse up but refusing
// inserts for a reason of its own for 20 s: the tables are detached (on
// 18.16 an INSERT then fails with code 60, "table doesn't exist"; a user
// without rights or a full disk look the same to ingest). That is the
// server's state, not the events' fault: consumption must pause and
// resume once the tables are attached again, with nothing dead-lettered
// and nothing lost.
func TestIngestClickHouseRefusesInserts(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(serverFaultEvents)
	conn := openCH(ctx, t, env, db)

	proc := startIngest(t, bin, env, db, group)
	p := publishMix(ctx, t, env, tenant, want)
	waitDistinct(ctx, t, conn, "auth_events", tenant, 1000)
	waitDistinct(ctx, t, conn, "telemetry_metrics", tenant, 1000)
	for _, table := range refusedTables {
		if err := conn.Exec(ctx, "DETACH TABLE "+db+"."+table); err != nil {
			t.Fatalf("detach %s: %v", table, err)
		}
	}
	detached := time.Now()
	before := distinct(ctx, conn, "task_events", tenant)
	t.Logf("detached %v after %d events published", refusedTables, p.acked.Load())
	time.Sleep(20 * time.Second) // not a poll: the refusal lasts 20 s on purpose
	t.Log("consumer while ClickHouse refuses inserts:")
	logStats(t, proc)
	// The other tables kept landing: a refused table stalls only itself.
	if after := distinct(ctx, conn, "task_events", tenant); after <= before && after != want["task_events"] {
		t.Errorf("task_events stopped at %d rows while other tables were detached", after)
	}
	attached := time.Now()
	for _, table := range refusedTables {
		if err := conn.Exec(ctx, "ATTACH TABLE "+db+"."+table); err != nil {
			t.Fatalf("attach %s: %v", table, err)
		}
	}
	t.Logf("attached again after %s", attached.Sub(detached).Round(time.Millisecond))
	p.wait(t, want.total())
	end := waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	checkExactlyOnce(ctx, t, conn, tenant, want)
	f := measure(ctx, t, conn, tenant, want)
	t.Logf("FIGURES clickhouse-refuses-inserts (%d events, tables detached 20 s): %s, recovery %.1f s after ATTACH",
		want.total(), f, end.Sub(attached).Seconds())
	if f.missing != 0 || f.duplicated != 0 || f.deadLettered != 0 {
		t.Errorf("%s: want nothing missing, duplicated or dead-lettered", f)
	}
	logStats(t, proc)
}

// serverFaultEvents is how many events the server-fault test publishes:
// enough that ingest is busy across the whole refusal on a shared machine.
const serverFaultEvents = 50_000

// figures are the numbers every fault test of issue 11 prints.
type figures struct {
	missing, duplicated, deadLettered int
}

// measure counts, over want's tables: events missing, rows the FINAL view
// holds beyond the distinct event ids (duplicates it failed to collapse),
// and the distinct events in dead_letters (the test's database holds only
// its own).
func measure(ctx context.Context, t *testing.T, conn driver.Conn, tenant string, want mix) figures {
	t.Helper()
	var f figures
	for table, n := range want {
		var final, uniq uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM "+table+" FINAL WHERE tenant = ?", tenant).Scan(&final); err != nil {
			t.Fatalf("%s FINAL: %v", table, err)
		}
		if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM "+table+" WHERE tenant = ?", tenant).Scan(&uniq); err != nil {
			t.Fatalf("%s uniqExact: %v", table, err)
		}
		f.missing += max(n-int(uniq), 0)
		f.duplicated += int(final) - int(uniq)
	}
	var dead uint64
	if err := conn.QueryRow(ctx, "SELECT uniqExact(event_id) FROM dead_letters").Scan(&dead); err != nil {
		t.Fatalf("dead_letters: %v", err)
	}
	f.deadLettered = int(dead)
	return f
}

func (f figures) String() string {
	return fmt.Sprintf("missing %d, duplicated-after-FINAL %d, dead-lettered %d", f.missing, f.duplicated, f.deadLettered)
}
