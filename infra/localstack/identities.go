package localstack

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"

	"github.com/tributary-io/tributary/schemas"
)

// Identities of a secure stack. Each has its own password per server
// (<dir>/secrets/<server>/<user>, 0600) and an env file of its own
// (<dir>/env.<user>); <dir>/env carries the admin identity, so every
// binary runs on it as on the open stack.
const (
	UserAdmin   = "admin"   // everything: provisioning, migrations, the stack's own checks
	UserIngest  = "ingest"  // consumes every family, writes rows and dead letters
	UserDetect  = "detect"  // consumes, publishes anomalies, keeps detector state
	UserAnalyst = "analyst" // reads ClickHouse (readonly, quota), tails anomalies
)

// TenantUser is the producer identity of one tenant.
func TenantUser(tenant string) string { return "tenant-" + tenant }

// serverUsers lists who exists on each server of a secure stack.
func (c Config) serverUsers(server string) []string {
	switch server {
	case NATS:
		return append([]string{UserAdmin, UserIngest, UserDetect, UserAnalyst}, c.tenantUsers()...)
	case Kafka:
		return append([]string{UserAdmin, UserIngest, UserDetect}, c.tenantUsers()...)
	case ClickHouse:
		return []string{UserAdmin, UserIngest, UserAnalyst}
	}
	return nil
}

func (c Config) tenantUsers() []string {
	out := make([]string, 0, len(c.Tenants))
	for _, t := range c.Tenants {
		out = append(out, TenantUser(t))
	}
	return out
}

// PKI is the secure stack's certificate folder.
func (c Config) PKI() PKI { return PKI{Dir: c.path("pki")} }

// PasswordFile is where a secure stack keeps user's password on server.
func (c Config) PasswordFile(server, user string) string {
	return c.path("secrets", server, user)
}

// UserEnvFile is the env file of one identity on a secure stack.
func (c Config) UserEnvFile(user string) string { return c.path("env." + user) }

// password reads user's password on server, creating it on first use.
// Passwords are hex, so they need no quoting in any server's config.
func (c Config) password(server, user string) (string, error) {
	f := c.PasswordFile(server, user)
	if b, err := os.ReadFile(f); err == nil && len(strings.TrimSpace(string(b))) >= 32 {
		return strings.TrimSpace(string(b)), nil
	}
	var raw [20]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("password for %s on %s: %w", user, server, err)
	}
	pw := hex.EncodeToString(raw[:])
	if err := writeFileAtomic(f, []byte(pw+"\n"), 0o600); err != nil {
		return "", err
	}
	return pw, nil
}

// passwords returns every user's password on server.
func (c Config) passwords(server string) (map[string]string, error) {
	out := map[string]string{}
	for _, u := range c.serverUsers(server) {
		pw, err := c.password(server, u)
		if err != nil {
			return nil, err
		}
		out[u] = pw
	}
	return out, nil
}

// tenantSubjects are the JetStream subjects a tenant may publish to: every
// route that names {tenant}, except anomalies (the detectors' alone), with
// the tenant filled in and the other placeholders as wildcards.
func tenantSubjects(tenant string) []string {
	rc := schemas.DefaultRouting()
	anomaly := rc.Routes[string(schemas.FamilyAnomaly)]
	seen := map[string]bool{}
	for key, r := range rc.Routes {
		if r.JetStream == nil || !strings.Contains(r.JetStream.Subject, schemas.PlaceholderTenant) ||
			key == string(schemas.FamilyAnomaly) || (anomaly.JetStream != nil && r.JetStream.Subject == anomaly.JetStream.Subject) {
			continue
		}
		seen[subjectFor(r.JetStream.Subject, tenant)] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// subjectFor fills {tenant} and turns the other placeholders into
// wildcards: a trailing one into '>', others into '*'.
func subjectFor(tmpl, tenant string) string {
	tokens := strings.Split(strings.ReplaceAll(tmpl, schemas.PlaceholderTenant, tenant), ".")
	for i, tok := range tokens {
		if strings.HasPrefix(tok, "{") {
			tokens[i] = "*"
			if i == len(tokens)-1 {
				tokens[i] = ">"
			}
		}
	}
	return strings.Join(tokens, ".")
}

// anomalySubjects is what only the detectors may publish to.
func anomalySubjects() []string {
	r := schemas.DefaultRouting().Routes[string(schemas.FamilyAnomaly)]
	if r.JetStream == nil {
		return nil
	}
	// Everything below the template's fixed prefix: "anomaly.>".
	var fixed []string
	for _, tok := range strings.Split(r.JetStream.Subject, ".") {
		if strings.HasPrefix(tok, "{") {
			break
		}
		fixed = append(fixed, tok)
	}
	return []string{strings.Join(append(fixed, ">"), ".")}
}

// producerTopics are the Kafka topics a tenant's producer may write: the
// routes' topics except anomalies and dead letters. They are shared by
// every tenant (no route names {tenant} on Kafka), so an ACL cannot bind a
// tenant to its own rows there; see README "Securing a deployment".
func producerTopics() []string {
	rt, err := schemas.NewRoutingTable(schemas.DefaultRouting())
	if err != nil {
		return nil
	}
	var out []string
	for _, t := range rt.Provisioning().Topics {
		if t == AnomalyTopic() || strings.HasPrefix(t, "dlq.") {
			continue
		}
		out = append(out, t)
	}
	return out
}

// AnomalyTopic is the Kafka topic anomaly events go to.
func AnomalyTopic() string {
	if r := schemas.DefaultRouting().Routes[string(schemas.FamilyAnomaly)]; r.Kafka != nil {
		return r.Kafka.Topic
	}
	return ""
}

// validTenant: a tenant becomes a NATS subject token and a user name.
func validTenant(t string) error {
	if t == "" {
		return errors.New("empty tenant")
	}
	for _, r := range t {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("tenant %q: use a-z, 0-9, '-' and '_' only", t)
		}
	}
	return nil
}

// identities lists every user that gets an env file of its own.
func (c Config) identities() []string {
	return append([]string{UserAdmin, UserIngest, UserDetect, UserAnalyst}, c.tenantUsers()...)
}

// userEndpoints is ep as user sees it: the stack's CA, and for each
// server the user exists on its name and password file; a server the user
// has no account on gets no address, so a binary does not try it as
// nobody.
func (c Config) userEndpoints(ep Endpoints, user string) Endpoints {
	pki := c.PKI()
	has := func(server string) bool { return slices.Contains(c.serverUsers(server), user) }
	extra := map[string]string{"TRIBUTARY_STACK_SECURE": "true", "TRIBUTARY_STACK_IDENTITY": user}
	if has(NATS) {
		extra["TRIBUTARY_NATS_TLS_CA"] = pki.CA()
		extra["TRIBUTARY_NATS_TLS_CERT"] = pki.ClientCert()
		extra["TRIBUTARY_NATS_TLS_KEY"] = pki.ClientKey()
		extra["TRIBUTARY_NATS_USER"] = user
		extra["TRIBUTARY_NATS_PASSWORD_FILE"] = c.PasswordFile(NATS, user)
	} else {
		ep.NATSURL = ""
	}
	if has(Kafka) {
		extra["TRIBUTARY_KAFKA_TLS_CA"] = pki.CA()
		extra["TRIBUTARY_KAFKA_SASL"] = KafkaSASLMechanism
		extra["TRIBUTARY_KAFKA_USER"] = user
		extra["TRIBUTARY_KAFKA_PASSWORD_FILE"] = c.PasswordFile(Kafka, user)
	} else {
		ep.KafkaBrokers = ""
	}
	if has(ClickHouse) {
		extra["TRIBUTARY_CLICKHOUSE_TLS_CA"] = pki.CA()
		extra["TRIBUTARY_CLICKHOUSE_USER"] = user
		extra["TRIBUTARY_CLICKHOUSE_PASSWORD_FILE"] = c.PasswordFile(ClickHouse, user)
	} else {
		ep.ClickHouseAddr, ep.ClickHouseHTTP = "", ""
	}
	ep.Extra = extra
	return ep
}
