package secure

import (
	"flag"
	"fmt"

	"github.com/tributary-io/tributary/infra/kafkabus"
)

// Kafka is how a binary authenticates to Kafka: SASL (PLAIN,
// SCRAM-SHA-256 or SCRAM-SHA-512) with a user and password, and TLS.
type Kafka struct {
	Mechanism string
	User      string
	Password  Secret
	TLS       TLS
}

// RegisterKafka adds the Kafka settings to fs.
func RegisterKafka(fs *flag.FlagSet, getenv func(string) string, k *Kafka) {
	fs.StringVar(&k.Mechanism, "kafka-sasl", getenv("TRIBUTARY_KAFKA_SASL"), "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512; empty: none (TRIBUTARY_KAFKA_SASL)")
	fs.StringVar(&k.User, "kafka-user", getenv("TRIBUTARY_KAFKA_USER"), "SASL user (TRIBUTARY_KAFKA_USER); its password from TRIBUTARY_KAFKA_PASSWORD or -kafka-password-file")
	secretVar(fs, getenv, &k.Password, "kafka-password", "TRIBUTARY_KAFKA_PASSWORD", "Kafka SASL password")
	tlsVars(fs, getenv, &k.TLS, "kafka", "TRIBUTARY_KAFKA")
}

// Security returns the adapter's settings; errors name the flag.
func (k Kafka) Security() (kafkabus.SecurityConfig, error) {
	var s kafkabus.SecurityConfig
	tc, err := k.TLS.Config("-kafka-tls")
	if err != nil {
		return s, err
	}
	s.TLS = tc
	if k.Mechanism == "" {
		if k.User != "" || k.Password.Set() {
			return s, fmt.Errorf("-kafka-sasl: required with a Kafka user or password")
		}
		return s, nil
	}
	switch k.Mechanism {
	case kafkabus.SASLPlain, kafkabus.SASLScramSHA256, kafkabus.SASLScramSHA512:
	default:
		return s, fmt.Errorf("-kafka-sasl %q: want %s, %s or %s", k.Mechanism, kafkabus.SASLPlain, kafkabus.SASLScramSHA256, kafkabus.SASLScramSHA512)
	}
	if k.User == "" {
		return s, fmt.Errorf("-kafka-user: required with -kafka-sasl")
	}
	pw, err := k.Password.Value()
	if err != nil {
		return s, fmt.Errorf("-kafka-password-file: %w", err)
	}
	s.SASL = &kafkabus.SASLConfig{Mechanism: k.Mechanism, Username: k.User, Password: pw}
	return s, nil
}
