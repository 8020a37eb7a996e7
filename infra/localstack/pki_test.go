package localstack

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"slices"
	"testing"
	"time"
)

// TestPKIEnsure: the first call writes a CA and leaf certificates that
// verify for 127.0.0.1 and localhost, keys 0600; a second call writes
// nothing; a call within the renewal window of the leaves' expiry issues
// them again.
func TestPKIEnsure(t *testing.T) {
	p := PKI{Dir: t.TempDir()}
	now := time.Now()
	changed, err := p.Ensure(now)
	if err != nil || !changed {
		t.Fatalf("first Ensure = %v, %v; want written", changed, err)
	}
	for _, key := range []string{p.CAKey(), p.ServerKey(), p.ClientKey(), p.KafkaKeystore()} {
		st, err := os.Stat(key)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: mode %v, %v; want 0600", key, st.Mode().Perm(), err)
		}
	}
	pair, err := tls.LoadX509KeyPair(p.ServerCert(), p.ServerKey())
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(pair.Certificate[0])
	ca, _, err := loadPair(p.CA(), p.CAKey())
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(ca)
	for _, name := range []string{"127.0.0.1", "localhost"} {
		if _, err := leaf.Verify(x509.VerifyOptions{DNSName: name, Roots: roots}); err != nil {
			t.Errorf("server certificate for %s: %v", name, err)
		}
	}
	if changed, err := p.Ensure(now); err != nil || changed {
		t.Errorf("second Ensure = %v, %v; want nothing written", changed, err)
	}
	later := leaf.NotAfter.Add(-certRenewBefore / 2)
	if changed, err := p.Ensure(later); err != nil || !changed {
		t.Fatalf("Ensure near expiry = %v, %v; want reissued", changed, err)
	}
	renewed, _, err := loadPair(p.ServerCert(), p.ServerKey())
	if err != nil || !renewed.NotAfter.After(leaf.NotAfter) {
		t.Errorf("renewed certificate expires %v (was %v): %v", renewed.NotAfter, leaf.NotAfter, err)
	}
}

// TestTenantPermissions: a tenant's subjects come from the routing table
// and never include anomalies; its Kafka topics are the shared producer
// topics, never anomalies or dead letters.
func TestTenantPermissions(t *testing.T) {
	got := tenantSubjects("acme")
	if !slices.Equal(got, []string{"auth.acme.>", "task.acme.>"}) {
		t.Errorf("tenantSubjects(acme) = %v", got)
	}
	if a := anomalySubjects(); !slices.Equal(a, []string{"anomaly.>"}) {
		t.Errorf("anomalySubjects() = %v", a)
	}
	for _, topic := range producerTopics() {
		if topic == AnomalyTopic() || topic[:4] == "dlq." {
			t.Errorf("producer topic %s", topic)
		}
	}
	if len(producerTopics()) == 0 {
		t.Error("no producer topics")
	}
	cfg := DefaultConfig()
	cfg.Secure, cfg.Tenants = true, []string{"ok", "Bad.Tenant"}
	if err := cfg.Validate(); err == nil {
		t.Error("a tenant with '.' is accepted")
	}
}
