package secure

import (
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tributary-io/tributary/infra/localstack"
	"github.com/tributary-io/tributary/infra/secure"
)

// TestSecureStackNATSRefuses: the secure stack's nats-server refuses a
// wrong password, an unknown user, a server certificate from another CA,
// a client without a certificate and plaintext, each within seconds, with
// an error naming the connection and the cause and no password.
func TestSecureStackNATSRefuses(t *testing.T) {
	acme := identityOf(t, localstack.TenantUser("acme"))
	url := acme.vars["TRIBUTARY_NATS_URL"]
	if err, took := dial(t, url, acme.NATS); err != nil {
		t.Fatalf("tenant-acme with its own settings: %v (%s)", err, took)
	}
	wrong := acme.NATS
	wrong.Password = secretOf(t, "wrong-"+password)
	unknown := acme.NATS
	unknown.User = "mallory"
	untrusted := acme.NATS
	untrusted.TLS.CAFile = newCA(t, "someone-else").CAFile
	noClientCert := acme.NATS
	noClientCert.TLS.CertFile, noClientCert.TLS.KeyFile = "", ""
	plaintext := acme.NATS
	plaintext.TLS = secure.TLS{}
	for _, tc := range []struct {
		name   string
		n      secure.NATS
		causes []string
	}{
		{"wrong password", wrong, []string{"Authorization Violation"}},
		{"unknown user", unknown, []string{"Authorization Violation"}},
		{"untrusted certificate", untrusted, []string{"certificate signed by unknown authority"}},
		{"no client certificate", noClientCert, []string{"certificate", "tls", "EOF", "connection reset"}},
		// nats.go upgrades to TLS when the server requires it, so a client
		// without TLS settings tries the system roots and fails on them.
		{"no TLS settings", plaintext, []string{"secure connection required", "certificate signed by unknown authority"}},
	} {
		err, took := dial(t, url, tc.n)
		expectFailure(t, tc.name, err, took, 10*time.Second, "connect nats", tc.causes...)
	}
}

// violations connects as id and records the server's permission errors.
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) add(err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err.Error())
}

// waitFor reports whether a violation naming subject arrives within d.
func (v *violations) waitFor(subject string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		v.mu.Lock()
		for _, e := range v.errs {
			if strings.Contains(e, `"`+subject+`"`) {
				v.mu.Unlock()
				return true
			}
		}
		v.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func connectAs(t *testing.T, id identity) (*nats.Conn, *violations) {
	t.Helper()
	opts, err := id.NATS.Options()
	if err != nil {
		t.Fatal(err)
	}
	v := &violations{}
	opts = append(opts, natsTimeout(), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		if errors.Is(err, nats.ErrPermissionViolation) || strings.Contains(err.Error(), "Permissions Violation") {
			v.add(err)
		}
	}))
	nc, err := nats.Connect(id.vars["TRIBUTARY_NATS_URL"], opts...)
	if err != nil {
		t.Fatalf("connect nats as %s: %v", id.user, err)
	}
	t.Cleanup(nc.Close)
	return nc, v
}

// TestSecureStackNATSPermissions: each identity publishes where its
// permissions allow and is refused elsewhere — a tenant under another
// tenant's subjects or on anomaly subjects, ingest on anomaly subjects;
// only detect may publish anomalies.
func TestSecureStackNATSPermissions(t *testing.T) {
	for _, tc := range []struct {
		user    string
		subject string
		allowed bool
	}{
		{localstack.TenantUser("acme"), "auth.acme.login.failed", true},
		{localstack.TenantUser("acme"), "task.acme.task.started", true},
		{localstack.TenantUser("acme"), "auth.globex.login.failed", false},
		{localstack.TenantUser("acme"), "task.globex.task.started", false},
		{localstack.TenantUser("acme"), "anomaly.acme.brute_force_user", false},
		{localstack.TenantUser("globex"), "auth.acme.login.failed", false},
		{localstack.UserIngest, "anomaly.acme.brute_force_user", false},
		{localstack.UserIngest, "dlq.auth", true},
		{localstack.UserAnalyst, "auth.acme.login.failed", false},
		{localstack.UserDetect, "anomaly.acme.brute_force_user", true},
	} {
		nc, v := connectAs(t, identityOf(t, tc.user))
		if err := nc.Publish(tc.subject, []byte(`{}`)); err != nil {
			t.Fatalf("%s publish %s: %v", tc.user, tc.subject, err)
		}
		if err := nc.Flush(); err != nil {
			t.Fatalf("%s flush: %v", tc.user, err)
		}
		// A violation comes back at once; an allowed publish gets none
		// within the same wait.
		refused := v.waitFor(tc.subject, 500*time.Millisecond)
		if refused == tc.allowed {
			t.Errorf("%s publishing to %s: refused=%v, want allowed=%v (violations %v)", tc.user, tc.subject, refused, tc.allowed, v.errs)
			continue
		}
		t.Logf("%s -> %s: allowed=%v %v", tc.user, tc.subject, tc.allowed, v.errs)
	}
}
