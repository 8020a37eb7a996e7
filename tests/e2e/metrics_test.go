package e2e

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestIngestMetrics scrapes a running ingest's /metrics while events flow
// and checks the figures against ClickHouse: rows inserted per table equal
// the rows in the table, every inserted row was an acked message, and each
// has a freshness sample.
func TestIngestMetrics(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	id := suffix(t)
	cfg := ingestConfig(t, env, id)
	addr := freeAddr(t)
	cfg.HTTPAddr = addr
	startIngest(ctx, t, cfg)
	pub, conn := clients(ctx, t, env, cfg.ClickHouse.Database)
	tenant := "e2e" + id
	warmUp(ctx, t, pub, conn, tenant+"w")

	for i := range 40 {
		for _, p := range []schemas.Payload{
			schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("u%d", i%5), SourceIP: "192.0.2.7"},
				Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials},
			schemas.MetricSample{TelemetrySource: schemas.TelemetrySource{Host: "h1", Service: "api"}, Name: "cpu", Value: float64(i)},
		} {
			ev, err := schemas.NewEvent("//tributary/e2e", tenant, p)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pub.Publish(ctx, ev); err != nil {
				t.Fatal(err)
			}
		}
	}

	tables := []string{"auth_events", "telemetry_metrics"}
	url := "http://" + addr + "/metrics"
	poll.Eventually(t, time.Minute, 200*time.Millisecond, func() error {
		m, err := scrape(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		var disagree []string
		for _, table := range tables {
			var rows uint64
			if err := conn.QueryRow(ctx, "SELECT count() FROM "+table).Scan(&rows); err != nil {
				t.Fatal(err)
			}
			inserted := m[fmt.Sprintf(`tributary_rows_inserted_total{service="ingest",table="%s"}`, table)]
			acked := m[fmt.Sprintf(`tributary_messages_total{handler="%s",outcome="acked",service="ingest"}`, table)]
			fresh := m[fmt.Sprintf(`tributary_freshness_seconds_count{service="ingest",table="%s"}`, table)]
			if rows < 40 || inserted != float64(rows) || acked != float64(rows) || fresh != float64(rows) {
				disagree = append(disagree, fmt.Sprintf("%s: %d rows in ClickHouse, /metrics: %v inserted, %v acked, %v freshness samples",
					table, rows, inserted, acked, fresh))
			}
		}
		if len(disagree) > 0 {
			return fmt.Errorf("the metrics disagree with ClickHouse: %s", strings.Join(disagree, "; "))
		}
		return nil
	})
	m, err := scrape(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`tributary_flush_seconds_count{service="ingest",table="auth_events"}`,
		`tributary_consumer_lag{partition="0",service="ingest",source="auth_events"}`,
		`tributary_consumer_lag{partition="0",service="ingest",source="telemetry_metrics"}`,
		`tributary_pending_rows{service="ingest",table="auth_events"}`, `go_goroutines`} {
		if _, ok := m[want]; !ok {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if m[`tributary_messages_total{handler="auth_events",outcome="dead_lettered",service="ingest"}`] != 0 {
		t.Error("good events were dead-lettered")
	}
}

// scrape reads a Prometheus text page into series → value.
func scrape(ctx context.Context, url string) (map[string]float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("scrape %s: %w", url, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(resp.Body)
		return nil, fmt.Errorf("scrape %s: %s: %s", url, resp.Status, b)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			continue
		}
		out[line[:i]] = v
	}
	return out, sc.Err()
}

// freeAddr is a loopback address with a port nothing listens on now.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
