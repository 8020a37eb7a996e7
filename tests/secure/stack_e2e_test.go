package secure

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/consumers/service"
	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/localstack"
	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
)

// TestSecureStackEndToEnd: on the secure stack, with least-privilege
// identities only, tenant acme publishes a login (its own credentials,
// its own subjects), ingest (the ingest identity: provisioning, migrations,
// consuming, inserting) lands the row, and the analyst reads it. A login
// acme publishes as globex on acme's own subject is dead-lettered
// (tenant_mismatch), never stored: with the subject permissions, a tenant
// can write neither on another's subjects nor as another on its own.
func TestSecureStackEndToEnd(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := stack(t).Config.ClickHouseDatabases[0]
	ing, acme, analyst := identityOf(t, localstack.UserIngest), identityOf(t, localstack.TenantUser("acme")), identityOf(t, localstack.UserAnalyst)

	cfg := service.IngestConfig{
		NATSURL: ing.vars["TRIBUTARY_NATS_URL"], KafkaBrokers: []string{ing.vars["TRIBUTARY_KAFKA_BROKERS"]},
		ClickHouse: chinfra.Config{Addr: ing.vars["TRIBUTARY_CLICKHOUSE_ADDR"], Database: db},
		Group:      "secure-e2e", FlushInterval: 50 * time.Millisecond,
	}
	var err error
	if cfg.NATSOptions, err = ing.NATS.Options(); err != nil {
		t.Fatal(err)
	}
	if cfg.KafkaSecurity, err = ing.Kafka.Security(); err != nil {
		t.Fatal(err)
	}
	if err := ing.ClickHouse.Apply(&cfg.ClickHouse); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	runCtx, stop := context.WithCancel(ctx)
	ready, done := make(chan struct{}), make(chan error, 1)
	go func() { done <- service.RunIngest(runCtx, cfg, log, ready) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("ingest stopped with %v", err)
		}
	})
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("ingest as %q failed to start: %v", ing.user, err)
	case <-ctx.Done():
		t.Fatal("ingest not running after 3 minutes")
	}

	natsOpts, err := acme.NATS.Options()
	if err != nil {
		t.Fatal(err)
	}
	sdk, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/secure-e2e"},
		NATSURL: acme.vars["TRIBUTARY_NATS_URL"], NATSOptions: natsOpts})
	if err != nil {
		t.Fatalf("tenant-acme dial: %v", err)
	}
	defer sdk.Close()
	login := schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "192.0.2.7"},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials}
	good, err := schemas.NewEvent("//tributary/secure-e2e", "acme", login)
	if err != nil {
		t.Fatal(err)
	}
	if good, err = sdk.Publish(ctx, good); err != nil {
		t.Fatalf("tenant-acme publishes an acme login: %v", err)
	}

	// acme writes as globex, on its own subject (the only one it may use).
	forged, err := schemas.NewEvent("//tributary/secure-e2e", "globex", login)
	if err != nil {
		t.Fatal(err)
	}
	nc, err := nats.Connect(acme.vars["TRIBUTARY_NATS_URL"], append(natsOpts, natsTimeout())...)
	if err != nil {
		t.Fatalf("tenant-acme connect: %v", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := natsbus.NewPublisher(js, natsbus.PublisherConfig{})
	if err != nil {
		t.Fatal(err)
	}
	msg := message.NewMessage(forged.ID, message.Payload(forged.Data))
	for k, v := range forged.Metadata() {
		msg.Metadata.Set(k, v)
	}
	if err := pub.Publish("auth.acme.login.failed", msg); err != nil {
		t.Fatalf("tenant-acme publishes on its own subject: %v", err)
	}

	conn, err := openClickHouse(t, analyst, db, true)
	if err != nil {
		t.Fatalf("analyst: %v", err)
	}
	defer conn.Close()
	var reason string
	err = poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		var landed uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM auth_events WHERE event_id = ?", good.ID).Scan(&landed); err != nil {
			return false, err
		}
		if err := conn.QueryRow(ctx, "SELECT any(reason) FROM dead_letters WHERE event_id = ?", forged.ID).Scan(&reason); err != nil {
			return false, err
		}
		if landed == 0 || reason == "" {
			return false, fmt.Errorf("acme's login landed %d times, the forged one's dead letter reason %q", landed, reason)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("acme's login %s landed in auth_events; the forged one was dead-lettered: %s", good.ID, reason)
	if !containsFold(reason, "tenant_mismatch") {
		t.Errorf("dead letter reason %q does not say tenant_mismatch", reason)
	}
	var stored uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM auth_events WHERE event_id = ?", forged.ID).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("auth_events holds the forged event %d times (err %v)", stored, err)
	}
}
