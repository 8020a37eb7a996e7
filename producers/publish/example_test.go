package publish_test

import (
	"context"
	"log"

	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/schemas"
)

// publishLogin is the README's "Publishing events" snippet: a service
// publishes one event and returns once the broker acked it.
func publishLogin(ctx context.Context) error {
	pub, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/auth-service"},
		NATSURL: "nats://127.0.0.1:4222", KafkaBrokers: []string{"127.0.0.1:9092"}})
	if err != nil {
		return err
	}
	defer pub.Close()
	ev, err := schemas.NewEvent("//tributary/auth-service", "acme", schemas.LoginFailed{Method: schemas.MethodPassword,
		AuthOrigin: schemas.AuthOrigin{User: "alice", SourceIP: "198.51.100.7"}, Reason: schemas.ReasonBadCredentials})
	if err != nil {
		return err
	}
	_, err = pub.Publish(ctx, ev)
	return err
}

// No Output comment: it needs running brokers, so `go test` compiles it
// but does not run it (tests/loadgen covers the same path on real servers).
func Example() {
	if err := publishLogin(context.Background()); err != nil {
		log.Fatal(err)
	}
}
