package kit_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/kit"
)

// The test a team writes for its own service: what it publishes lands
// exactly once, and a burst of failed logins becomes an anomaly. It uses
// only the kit's exported API, as a module outside this repository would
// (see the README's "Testing your pipeline").
func TestLoginBurstBecomesAnAnomaly(t *testing.T) {
	p := kit.Start(t, kit.WithDetectors())

	var burst []schemas.Envelope
	for i := range 12 {
		burst = append(burst, p.Event(t, schemas.LoginFailed{
			AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: fmt.Sprintf("198.51.100.%d", 10+i%3)},
			Method:     schemas.MethodPassword, Reason: schemas.ReasonBadCredentials,
		}))
	}
	sent := p.Publish(t, burst...)

	p.WaitLanded(t, 30*time.Second, sent...)
	p.ExpectExactlyOnce(t, map[string]int{"auth_events": 12})
	if score := p.ExpectAnomaly(t, "brute_force_user", "alice", 90*time.Second); score <= 0 {
		t.Errorf("brute_force_user on alice scored %v", score)
	}
}

// A broken event is dead-lettered with its reason, and the good one next
// to it lands.
func TestBrokenEventIsDeadLettered(t *testing.T) {
	p := kit.Start(t)
	good := p.Publish(t, p.Event(t, schemas.Logout{User: "bob"}))
	broken := p.Event(t, schemas.Logout{User: "mallory"})
	p.PublishRaw(t, "auth."+p.Tenant+".logout", broken, []byte(`{"user":`))

	p.WaitLanded(t, 30*time.Second, good...)
	p.ExpectDeadLetter(t, broken.ID, "decode", 30*time.Second)
}
