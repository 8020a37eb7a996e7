package secure

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestKafkaSecuritySettingsReachTheBroker: SASL or TLS settings are used,
// not ignored: against the stack's plaintext listener without SASL they
// fail, fast, without the password in the error.
func TestKafkaSecuritySettingsReachTheBroker(t *testing.T) {
	env := testenv.Get(t)
	for _, tc := range []struct {
		name string
		k    secure.Kafka
	}{
		{"SASL to a listener without it", secure.Kafka{Mechanism: "SCRAM-SHA-256", User: "ingest", Password: secretOf(t, password)}},
		{"TLS to the plaintext listener", secure.Kafka{TLS: secure.TLS{Enabled: true}}},
	} {
		sec, err := tc.k.Security()
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		conn, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/secure-test"},
			KafkaBrokers: env.KafkaBrokers, KafkaSecurity: sec, Provision: true})
		took := time.Since(start)
		cancel()
		if err == nil {
			conn.Close()
			t.Errorf("%s: connected", tc.name)
			continue
		}
		t.Logf("%s (%s): %v", tc.name, took.Round(time.Millisecond), err)
		if strings.Contains(err.Error(), password) {
			t.Errorf("%s: error shows the password", tc.name)
		}
		if took > 20*time.Second {
			t.Errorf("%s: took %s to fail", tc.name, took)
		}
	}
}
