package localstack

import (
	"fmt"
	"strings"
)

// natsSecurity is the TLS and authorization part of a secure stack's
// nats.conf. TLS verifies client certificates (the stack's client
// certificate, signed by its CA); users authenticate with passwords and
// are held to subject permissions:
//
//   - tenant-<t> may publish only to its tenant's subjects (auth.<t>.>,
//     task.<t>.>) and subscribe only to _INBOX.> for the PubAcks;
//   - ingest may call the JetStream API ($JS.API.>: create streams and
//     consumers, fetch), ack ($JS.ACK.>), answer flow control ($JS.FC.>)
//     and publish dead letters (dlq.>), but not anomalies;
//   - detect may do the same and publish anomalies (anomaly.>) and its
//     state ($KV.tributary_detector_state.>) — the only user that may
//     publish anomalies;
//   - analyst may read the ANOMALIES stream through an ordered consumer
//     (tributary-query tail);
//   - admin may do everything.
//
// All of them share the global account, where JetStream runs.
func natsSecurity(cfg Config) (string, error) {
	pki := cfg.PKI()
	pws, err := cfg.passwords(NATS)
	if err != nil {
		return "", err
	}
	service := []string{"$JS.API.>", "$JS.ACK.>", "$JS.FC.>", "_INBOX.>", "dlq.>"}
	perms := map[string][2][]string{ // user: publish, subscribe
		UserIngest: {service, {"_INBOX.>"}},
		UserDetect: {append(append(append([]string{}, service...), anomalySubjects()...), "$KV.tributary_detector_state.>"), {"_INBOX.>"}},
		UserAnalyst: {{"$JS.API.INFO", "$JS.API.STREAM.INFO.ANOMALIES", "$JS.API.CONSUMER.CREATE.ANOMALIES.>",
			"$JS.API.CONSUMER.DELETE.ANOMALIES.>", "$JS.API.CONSUMER.INFO.ANOMALIES.>", "$JS.API.CONSUMER.MSG.NEXT.ANOMALIES.>", "$JS.FC.>"}, {"_INBOX.>"}},
	}
	for _, t := range cfg.Tenants {
		perms[TenantUser(t)] = [2][]string{tenantSubjects(t), {"_INBOX.>"}}
	}
	var b strings.Builder
	fmt.Fprintf(&b, `tls {
  cert_file: %q
  key_file: %q
  ca_file: %q
  verify: true
  timeout: 2
}
authorization {
  timeout: 2
  users: [
    { user: %q, password: %q }
`, pki.ServerCert(), pki.ServerKey(), pki.CA(), UserAdmin, pws[UserAdmin])
	for _, u := range cfg.serverUsers(NATS) {
		p, ok := perms[u]
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "    { user: %q, password: %q, permissions: { publish: { allow: %s }, subscribe: { allow: %s } } }\n",
			u, pws[u], natsList(p[0]), natsList(p[1]))
	}
	b.WriteString("  ]\n}\n")
	return b.String(), nil
}

func natsList(subjects []string) string {
	q := make([]string, len(subjects))
	for i, s := range subjects {
		q[i] = fmt.Sprintf("%q", s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
