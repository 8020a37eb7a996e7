package e2e

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/natsbus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestForgedTenantIsDeadLettered: an event whose tenant header says one
// tenant, published on another tenant's subject, is dead-lettered with
// reason tenant_mismatch and never reaches auth_events; the same tenant's
// event on its own subject lands.
func TestForgedTenantIsDeadLettered(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	id := fmt.Sprintf("%x", time.Now().UnixNano())
	cfg := ingestConfig(t, env, id)
	startIngest(ctx, t, cfg)
	sdk, conn := clients(ctx, t, env, cfg.ClickHouse.Database)
	victim, forger := "v"+id, "f"+id

	login := schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "192.0.2.7"},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials}
	good, err := sdk.Publish(ctx, mustNew(t, forger, login))
	if err != nil {
		t.Fatal(err)
	}
	// The forger writes as the victim, on its own subject: the header
	// tenant is the victim's, the subject's is the forger's.
	forged := mustNew(t, victim, login)
	nc, err := nats.Connect(env.NATSURL)
	if err != nil {
		t.Fatal(err)
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
	if err := pub.Publish("auth."+forger+".login.failed", msg); err != nil {
		t.Fatal(err)
	}

	var reason string
	err = poll.Until(ctx, 200*time.Millisecond, func(ctx context.Context) (bool, error) {
		var landed uint64
		if err := conn.QueryRow(ctx, "SELECT count() FROM auth_events WHERE event_id = ?", good.ID).Scan(&landed); err != nil {
			return false, err
		}
		rows, err := conn.Query(ctx, "SELECT reason FROM dead_letters WHERE event_id = ?", forged.ID)
		if err != nil {
			return false, err
		}
		defer rows.Close()
		for rows.Next() {
			if err := rows.Scan(&reason); err != nil {
				return false, err
			}
		}
		if landed == 0 || reason == "" {
			return false, fmt.Errorf("good event landed %d, forged event's dead letter reason %q", landed, reason)
		}
		return true, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("forged event dead-lettered: %s", reason)
	if !containsAll(reason, "tenant_mismatch", forger) {
		t.Errorf("reason %q does not say tenant_mismatch and name the subject's tenant", reason)
	}
	var stored uint64
	if err := conn.QueryRow(ctx, "SELECT count() FROM auth_events WHERE tenant = ?", victim).Scan(&stored); err != nil || stored != 0 {
		t.Errorf("auth_events holds %d rows of the victim tenant (err %v)", stored, err)
	}
}

func mustNew(t *testing.T, tenant string, p schemas.Payload) schemas.Envelope {
	t.Helper()
	env, err := schemas.NewEvent("//tributary/e2e", tenant, p)
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
