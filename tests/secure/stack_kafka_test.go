package secure

import (
	"context"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/localstack"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/producers/publish"
)

// provisionKafka creates the routing table's topics as admin, the way a
// deployment's admin (or ingest at start) does before producers write.
func provisionKafka(t *testing.T) {
	t.Helper()
	admin := identityOf(t, localstack.UserAdmin)
	sec, err := admin.Kafka.Security()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	conn, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/secure-test"},
		KafkaBrokers: []string{admin.vars["TRIBUTARY_KAFKA_BROKERS"]}, KafkaSecurity: sec, Provision: true})
	if err != nil {
		t.Fatalf("provision Kafka topics as admin: %v", err)
	}
	conn.Close()
}

// TestSecureStackKafkaRefuses: the SASL_SSL listener refuses a wrong
// password, an unknown user, a client that does not trust its CA and a
// plaintext client, fast and without the password in the error.
func TestSecureStackKafkaRefuses(t *testing.T) {
	ingest := identityOf(t, localstack.UserIngest)
	broker := ingest.vars["TRIBUTARY_KAFKA_BROKERS"]
	wrong := ingest.Kafka
	wrong.Password = secretOf(t, "wrong-"+password)
	unknown := ingest.Kafka
	unknown.User = "mallory"
	untrusted := ingest.Kafka
	untrusted.TLS.CAFile = newCA(t, "someone-else").CAFile
	plaintext := ingest.Kafka
	plaintext.TLS = secure.TLS{}
	for _, tc := range []struct {
		name   string
		k      secure.Kafka
		causes []string
	}{
		{"right settings", ingest.Kafka, nil},
		{"wrong password", wrong, []string{"SASL Authentication Failed", "Authentication failed"}},
		{"unknown user", unknown, []string{"SASL Authentication Failed", "Authentication failed"}},
		{"untrusted certificate", untrusted, []string{"certificate signed by unknown authority"}},
		{"plaintext to the TLS listener", plaintext, []string{"EOF", "connection reset", "broken pipe", "timeout", "deadline"}},
	} {
		sec, err := tc.k.Security()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		start := time.Now()
		conn, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/secure-test"},
			KafkaBrokers: []string{broker}, KafkaSecurity: sec, Provision: true})
		took := time.Since(start)
		cancel()
		if tc.causes == nil {
			if err != nil {
				t.Fatalf("ingest with its own settings: %v", err)
			}
			conn.Close()
			continue
		}
		if err == nil {
			conn.Close()
		}
		expectFailure(t, tc.name, err, took, 15*time.Second, "kafka", tc.causes...)
	}
}

// TestSecureStackKafkaACLs: a tenant's producer may write the shared
// telemetry topics but not the anomalies topic, which only detect may
// write; ingest may not write anomalies either.
func TestSecureStackKafkaACLs(t *testing.T) {
	provisionKafka(t)
	for _, tc := range []struct {
		user, topic string
		allowed     bool
	}{
		{localstack.TenantUser("acme"), "telemetry.metrics", true},
		{localstack.TenantUser("acme"), localstack.AnomalyTopic(), false},
		{localstack.TenantUser("globex"), "dlq.telemetry", false},
		{localstack.UserIngest, localstack.AnomalyTopic(), false},
		{localstack.UserIngest, "dlq.telemetry", true},
		{localstack.UserDetect, localstack.AnomalyTopic(), true},
	} {
		id := identityOf(t, tc.user)
		sec, err := id.Kafka.Security()
		if err != nil {
			t.Fatal(err)
		}
		pub, err := kafkabus.NewPublisher(kafkabus.PublisherConfig{Brokers: []string{id.vars["TRIBUTARY_KAFKA_BROKERS"]}, Security: sec})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		err = pub.PublishContext(ctx, tc.topic, message.NewMessage("acl-probe", []byte(`{}`)))
		took := time.Since(start)
		cancel()
		pub.Close()
		switch {
		case tc.allowed && err != nil:
			t.Errorf("%s writing %s: %v", tc.user, tc.topic, err)
		case !tc.allowed && err == nil:
			t.Errorf("%s wrote %s", tc.user, tc.topic)
		case !tc.allowed:
			expectFailure(t, tc.user+" writing "+tc.topic, err, took, 5*time.Second, tc.topic, "Topic Authorization Failed")
		default:
			t.Logf("%s writing %s: allowed (%s)", tc.user, tc.topic, took.Round(time.Millisecond))
		}
	}
}
