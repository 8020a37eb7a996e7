// Command tributary-demo runs the platform's main job on the servers named
// by the TRIBUTARY_* variables (make demo starts them and passes them on):
// it starts the ingest consumer groups, publishes auth logins to JetStream
// and metrics to Kafka through the producer SDK, waits until ClickHouse
// holds every event, and prints what landed.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/consumers/service"
	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
)

type config struct {
	natsURL, chAddr, database string
	brokers                   []string
	events                    int
}

func main() {
	cfg := config{
		natsURL:  os.Getenv("TRIBUTARY_NATS_URL"),
		chAddr:   os.Getenv("TRIBUTARY_CLICKHOUSE_ADDR"),
		database: "tributary",
		events:   200,
	}
	if b := os.Getenv("TRIBUTARY_KAFKA_BROKERS"); b != "" {
		cfg.brokers = strings.Split(b, ",")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, cfg); err != nil {
		fmt.Fprintln(os.Stderr, "tributary-demo:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, cfg config) error {
	if cfg.natsURL == "" || len(cfg.brokers) == 0 || cfg.chAddr == "" {
		return errors.New("TRIBUTARY_NATS_URL, TRIBUTARY_KAFKA_BROKERS and TRIBUTARY_CLICKHOUSE_ADDR must be set (make demo sets them from .tributary/env)")
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	ingestCtx, stopIngest := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() {
		done <- service.RunIngest(ingestCtx, service.IngestConfig{
			NATSURL: cfg.natsURL, KafkaBrokers: cfg.brokers,
			ClickHouse: chinfra.Config{Addr: cfg.chAddr, Database: cfg.database},
			Group:      "demo", FlushInterval: 100 * time.Millisecond,
		}, log, ready)
	}()
	defer func() {
		stopIngest()
		<-done
	}()
	select {
	case <-ready:
	case err := <-done:
		return fmt.Errorf("ingest: %w", err)
	case <-ctx.Done():
		return ctx.Err()
	}
	fmt.Println("ingest consumer groups running: JetStream durable demo-auth_events, Kafka group demo-telemetry_metrics")

	pub, err := publish.Dial(ctx, publish.DialConfig{
		Config:  publish.Config{Source: "//tributary/demo"},
		NATSURL: cfg.natsURL, KafkaBrokers: cfg.brokers,
	})
	if err != nil {
		return err
	}
	defer pub.Close()

	began := time.Now()
	ids, err := publishSlice(ctx, pub, cfg.events)
	if err != nil {
		return err
	}
	fmt.Printf("published %d auth events to JetStream and %d metrics to Kafka in %s\n",
		len(ids["auth_events"]), len(ids["telemetry_metrics"]), time.Since(began).Round(time.Millisecond))

	conn, err := clickhouse.Open(&clickhouse.Options{Addr: []string{cfg.chAddr}, Auth: clickhouse.Auth{Database: cfg.database}})
	if err != nil {
		return err
	}
	defer conn.Close()
	for _, table := range []string{"auth_events", "telemetry_metrics"} {
		if err := waitFor(ctx, conn, table, ids[table]); err != nil {
			return err
		}
	}
	fmt.Printf("all %d events landed in ClickHouse %s after %s\n\n", cfg.events*2, cfg.database, time.Since(began).Round(time.Millisecond))
	return report(ctx, conn, ids)
}

// publishSlice sends logins (a few users failing from one address) and
// metrics from four hosts, returning the event ids by table.
func publishSlice(ctx context.Context, pub *publish.Conn, n int) (map[string][]string, error) {
	rng := rand.New(rand.NewPCG(7, 7))
	ids := map[string][]string{}
	for i := range n {
		var login schemas.Payload = schemas.LoginSucceeded{
			AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("user-%02d", rng.IntN(20)), SourceIP: fmt.Sprintf("198.51.100.%d", rng.IntN(50)),
				Geo: &schemas.Geo{Country: "DE", Lat: 52.52, Lon: 13.40}},
			Method: schemas.MethodPassword,
		}
		if i%4 == 0 {
			login = schemas.LoginFailed{
				AuthOrigin: schemas.AuthOrigin{User: "admin", SourceIP: "203.0.113.66", Geo: &schemas.Geo{Country: "BR", Lat: -23.55, Lon: -46.63}},
				Method:     schemas.MethodPassword, Reason: schemas.ReasonBadCredentials,
			}
		}
		metric := schemas.MetricSample{
			TelemetrySource: schemas.TelemetrySource{Host: fmt.Sprintf("web-%d", i%4), Service: "checkout"},
			Name:            "cpu.usage", Value: 0.2 + rng.Float64()*0.3, Unit: "ratio",
			Labels: map[string]string{"region": "eu-central"},
		}
		for table, p := range map[string]schemas.Payload{"auth_events": login, "telemetry_metrics": metric} {
			env, err := schemas.NewEvent("//tributary/demo", "acme", p)
			if err != nil {
				return nil, err
			}
			sent, err := pub.Publish(ctx, env)
			if err != nil {
				return nil, err
			}
			ids[table] = append(ids[table], sent.ID)
		}
	}
	return ids, nil
}

func waitFor(ctx context.Context, conn driver.Conn, table string, ids []string) error {
	query := fmt.Sprintf("SELECT uniqExact(event_id) FROM %s WHERE toString(event_id) IN ('%s')", table, strings.Join(ids, "','"))
	for {
		var got uint64
		err := conn.QueryRow(ctx, query).Scan(&got)
		if err == nil && int(got) == len(ids) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: %d of %d events arrived before the deadline (last error %v)", table, got, len(ids), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func report(ctx context.Context, conn driver.Conn, ids map[string][]string) error {
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', 0)
	fmt.Println("auth_events, this run (FINAL view):")
	fmt.Fprintln(w, "user_id\tsource_ip\tcountry\toutcome\tevents")
	rows, err := conn.Query(ctx, fmt.Sprintf(`SELECT user_id, source_ip, country, outcome, count() AS n
		FROM auth_events FINAL WHERE toString(event_id) IN ('%s')
		GROUP BY user_id, source_ip, country, outcome ORDER BY n DESC LIMIT 8`, strings.Join(ids["auth_events"], "','")))
	if err != nil {
		return fmt.Errorf("query auth_events: %w", err)
	}
	for rows.Next() {
		var user, ip, country, outcome string
		var n uint64
		if err := rows.Scan(&user, &ip, &country, &outcome, &n); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\n", user, ip, country, outcome, n)
	}
	rows.Close()
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Println("\ntelemetry_metrics, this run:")
	fmt.Fprintln(w, "host\tname\tsamples\tavg\tmax")
	rows, err = conn.Query(ctx, fmt.Sprintf(`SELECT host, name, count(), avg(value), max(value)
		FROM telemetry_metrics FINAL WHERE toString(event_id) IN ('%s')
		GROUP BY host, name ORDER BY host`, strings.Join(ids["telemetry_metrics"], "','")))
	if err != nil {
		return fmt.Errorf("query telemetry_metrics: %w", err)
	}
	for rows.Next() {
		var host, name string
		var n uint64
		var avg, maxV float64
		if err := rows.Scan(&host, &name, &n, &avg, &maxV); err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%.3f\t%.3f\n", host, name, n, avg, maxV)
	}
	rows.Close()
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Println(`
Query it yourself:
  clickhouse-client --port 9000 -d tributary -q "SELECT user_id, source_ip, count() FROM auth_events FINAL WHERE outcome = 'failure' GROUP BY user_id, source_ip ORDER BY count() DESC"
The FINAL view (or uniqExact(event_id)) counts each event once even if it was redelivered.`)
	return nil
}
