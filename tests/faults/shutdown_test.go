//go:build faults

package faults

import (
	"context"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/tributary-io/tributary/tests/testenv"
)

// TestIngestSIGTERM sends SIGTERM to the real binary while it ingests: it
// must stop fetching, insert and ack what it holds, and exit 0 within
// -shutdown-timeout. A restarted instance then finds nothing re-delivered
// that was already inserted (raw rows == distinct ids: the drain acked and
// committed every inserted row), and the rest lands exactly once.
func TestIngestSIGTERM(t *testing.T) {
	env := testenv.Private(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	id := suffix(t)
	tenant, db, group := "f"+id, "faults_"+id, "ingest-"+id
	bin := buildIngest(t)
	want := mixOf(50_000)
	conn := openCH(ctx, t, env, db)

	const timeout = 15 * time.Second
	first := startIngest(t, bin, env, db, group, "-shutdown-timeout", timeout.String())
	p := publishMix(ctx, t, env, tenant, want)
	// Both transports busy, so both have batches in flight at the signal.
	waitDistinct(ctx, t, conn, "auth_events", tenant, 2000)
	waitDistinct(ctx, t, conn, "telemetry_metrics", tenant, 2000)
	sent := time.Now()
	if err := first.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-first.done:
		if err != nil {
			t.Fatalf("after SIGTERM the consumer exited with %v, want 0", err)
		}
	case <-time.After(timeout + 10*time.Second):
		t.Fatalf("consumer still running %s after SIGTERM", timeout+10*time.Second)
	}
	t.Logf("SHUTDOWN: exit 0 %s after SIGTERM (timeout %s)", time.Since(sent).Round(time.Millisecond), timeout)
	logText, _ := os.ReadFile(first.log)
	if !strings.Contains(string(logText), "drained, exiting") {
		t.Errorf("the log does not say it drained:\n%s", tail(string(logText), 20))
	}
	var shutdownLog []string
	for _, l := range strings.Split(string(logText), "\n") {
		if strings.Contains(l, "shutting down") || strings.Contains(l, "flushing") || strings.Contains(l, "drained") ||
			strings.Contains(l, "level=WARN") || strings.Contains(l, "level=ERROR") {
			shutdownLog = append(shutdownLog, l)
		}
	}
	t.Logf("consumer log around the shutdown:\n%s", tail(strings.Join(shutdownLog, "\n"), 12))

	startIngest(t, bin, env, db, group)
	p.wait(t, want.total())
	waitLanded(ctx, t, conn, tenant, want, append(append([]string{}, jetStreamTables...), kafkaTables...))
	checkExactlyOnce(ctx, t, conn, tenant, want)
	var raw, uniq uint64
	for _, table := range append(append([]string{}, jetStreamTables...), kafkaTables...) {
		var r, u uint64
		if err := conn.QueryRow(ctx, "SELECT count(), uniqExact(event_id) FROM "+table+" WHERE tenant = ?", tenant).Scan(&r, &u); err != nil {
			t.Fatal(err)
		}
		raw, uniq = raw+r, uniq+u
	}
	if raw != uniq {
		t.Errorf("%d rows were inserted twice: the drain did not ack/commit everything it inserted", raw-uniq)
	}
}
