package localstack

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// KafkaSASLMechanism is what the secure stack's SASL_SSL listener accepts.
const KafkaSASLMechanism = "SCRAM-SHA-512"

// kafkaSecureProps turns the open broker's properties into a secure one's:
// clients reach one SASL_SSL listener (SCRAM-SHA-512, the server
// certificate from the stack's CA), which is also the inter-broker
// listener (as admin). The controller listener stays on loopback with SASL
// PLAIN for admin alone: KRaft cannot authenticate controller connections
// with SCRAM, whose credentials live in the metadata the controller serves.
// StandardAuthorizer denies whatever no ACL allows; admin is a super user.
func kafkaSecureProps(cfg Config, open string) (string, error) {
	pw, err := cfg.password(Kafka, UserAdmin)
	if err != nil {
		return "", err
	}
	pki := cfg.PKI()
	var keep []string
	for _, line := range strings.Split(open, "\n") {
		for _, key := range []string{"listeners=", "advertised.listeners=", "inter.broker.listener.name=", "listener.security.protocol.map="} {
			if strings.HasPrefix(line, key) {
				line = ""
			}
		}
		if line != "" {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n") + fmt.Sprintf(`
# Secure stack: SASL_SSL for clients and the broker, SASL PLAIN on the loopback controller listener.
listeners=SASL_SSL://127.0.0.1:%[1]d,CONTROLLER://127.0.0.1:%[2]d
advertised.listeners=SASL_SSL://127.0.0.1:%[1]d
inter.broker.listener.name=SASL_SSL
listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:SASL_PLAINTEXT
sasl.enabled.mechanisms=%[3]s
sasl.mechanism.inter.broker.protocol=%[3]s
sasl.mechanism.controller.protocol=PLAIN
listener.name.controller.sasl.enabled.mechanisms=PLAIN
listener.name.controller.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="%[4]s" password="%[5]s" user_%[4]s="%[5]s";
listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="%[4]s" password="%[5]s";
ssl.keystore.type=PEM
ssl.keystore.location=%[6]s
ssl.truststore.type=PEM
ssl.truststore.location=%[7]s
ssl.client.auth=none
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=false
super.users=User:%[4]s
`, cfg.KafkaPort, cfg.KafkaControllerPort, KafkaSASLMechanism, UserAdmin, pw, pki.KafkaKeystore(), pki.CA()), nil
}

// kafkaScramArgs adds every Kafka user's SCRAM credential to the KRaft
// metadata at format time, so the broker authenticates them from its first
// start (admin included, which the broker itself logs in as).
func kafkaScramArgs(cfg Config) ([]string, error) {
	pws, err := cfg.passwords(Kafka)
	if err != nil {
		return nil, err
	}
	var args []string
	for _, u := range cfg.serverUsers(Kafka) {
		args = append(args, "--add-scram", fmt.Sprintf("%s=[name=%s,password=%s]", KafkaSASLMechanism, u, pws[u]))
	}
	return args, nil
}

// adminTransport reaches the broker as the stack itself does: plaintext on
// an open stack, SASL_SSL as admin on a secure one.
func (s kafkaServer) adminTransport() (*kafka.Transport, error) {
	if !s.cfg.Secure {
		return &kafka.Transport{}, nil
	}
	pw, err := s.cfg.password(Kafka, UserAdmin)
	if err != nil {
		return nil, err
	}
	mech, err := scram.Mechanism(scram.SHA512, UserAdmin, pw)
	if err != nil {
		return nil, fmt.Errorf("kafka admin SASL: %w", err)
	}
	tc, err := stackTLS(s.cfg)
	if err != nil {
		return nil, err
	}
	return &kafka.Transport{TLS: tc, SASL: mech}, nil
}

// stackTLS trusts the stack's CA.
func stackTLS(cfg Config) (*tls.Config, error) {
	pem, err := os.ReadFile(cfg.PKI().CA())
	if err != nil {
		return nil, fmt.Errorf("stack CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("stack CA %s: no certificate", cfg.PKI().CA())
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// kafkaACLs is what each identity may do; admin needs none (super user).
//
//   - tenant-<t>: write the producer topics (telemetry.*), describe every
//     topic (so a write where it may not is refused at once as not
//     authorized, instead of retried as a topic that does not exist). The
//     topics are shared by all tenants, so the ACL says who may produce
//     telemetry at all, not for which tenant.
//   - ingest: read and describe every topic and every group, create topics
//     (it provisions at start), write dead letters (dlq.*).
//   - detect: the same, and write the anomalies topic, which no one else
//     (but admin) may.
func kafkaACLs(cfg Config) []kafka.ACLEntry {
	var out []kafka.ACLEntry
	add := func(user string, rt kafka.ResourceType, name string, pt kafka.PatternType, ops ...kafka.ACLOperationType) {
		for _, op := range ops {
			out = append(out, kafka.ACLEntry{ResourceType: rt, ResourceName: name, ResourcePatternType: pt,
				Principal: "User:" + user, Host: "*", Operation: op, PermissionType: kafka.ACLPermissionTypeAllow})
		}
	}
	for _, t := range cfg.Tenants {
		for _, topic := range producerTopics() {
			add(TenantUser(t), kafka.ResourceTypeTopic, topic, kafka.PatternTypeLiteral, kafka.ACLOperationTypeWrite)
		}
		add(TenantUser(t), kafka.ResourceTypeTopic, "*", kafka.PatternTypeLiteral, kafka.ACLOperationTypeDescribe)
	}
	for _, u := range []string{UserIngest, UserDetect} {
		add(u, kafka.ResourceTypeTopic, "*", kafka.PatternTypeLiteral, kafka.ACLOperationTypeRead, kafka.ACLOperationTypeDescribe,
			kafka.ACLOperationTypeCreate, kafka.ACLOperationTypeDescribeConfigs)
		add(u, kafka.ResourceTypeTopic, "dlq.", kafka.PatternTypePrefixed, kafka.ACLOperationTypeWrite)
		add(u, kafka.ResourceTypeGroup, "*", kafka.PatternTypeLiteral, kafka.ACLOperationTypeRead, kafka.ACLOperationTypeDescribe)
	}
	add(UserDetect, kafka.ResourceTypeTopic, AnomalyTopic(), kafka.PatternTypeLiteral, kafka.ACLOperationTypeWrite)
	return out
}

// configure creates the ACLs (creating an existing ACL again is a no-op).
func (s kafkaServer) configure(ctx context.Context) error {
	if !s.cfg.Secure {
		return nil
	}
	transport, err := s.adminTransport()
	if err != nil {
		return err
	}
	defer transport.CloseIdleConnections()
	client := &kafka.Client{Addr: kafka.TCP(s.broker()), Transport: transport}
	resp, err := client.CreateACLs(ctx, &kafka.CreateACLsRequest{ACLs: kafkaACLs(s.cfg)})
	if err != nil {
		return fmt.Errorf("kafka ACLs: %w", err)
	}
	var errs []error
	for _, e := range resp.Errors {
		if e != nil {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("kafka ACLs: %w", errors.Join(errs...))
	}
	return nil
}
