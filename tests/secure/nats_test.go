// Package secure runs the negative tests of connection security against
// real servers: a nats-server with TLS and users, and the ClickHouse the
// other tests use. Each bad setting must fail fast, naming the connection
// and the cause, and never print the secret.
package secure

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/producers/publish"
	"github.com/tributary-io/tributary/tests/testenv"
)

const password = "S3cretPass-9f2"

// tlsNATS starts a nats-server that requires TLS and the user alice, with
// a certificate signed by ca (valid from nb to na), and returns its URL.
func tlsNATS(t *testing.T, ca *authority, nb, na time.Time) string {
	t.Helper()
	cert, key := ca.issue(t, "nats", nb, na)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	conf := filepath.Join(t.TempDir(), "nats.conf")
	body := fmt.Sprintf(`listen: "127.0.0.1:%d"
tls { cert_file: %q, key_file: %q, timeout: 2 }
authorization { users: [ { user: alice, password: %q } ] }
`, port, cert, key, password)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(testenv.NATSServerBinary(t), "--config", conf)
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := poll.Until(ctx, 50*time.Millisecond, func(context.Context) (bool, error) {
		c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			return false, err
		}
		c.Close()
		return true, nil
	}); err != nil {
		t.Fatalf("nats-server with TLS did not start: %v\n%s", err, logs.String())
	}
	return fmt.Sprintf("nats://127.0.0.1:%d", port)
}

// dial connects the SDK with settings n and reports the error and how long
// it took.
func dial(t *testing.T, url string, n secure.NATS) (error, time.Duration) {
	t.Helper()
	opts, err := n.Options()
	if err != nil {
		return err, 0
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	start := time.Now()
	conn, err := publish.Dial(ctx, publish.DialConfig{Config: publish.Config{Source: "//tributary/secure-test"},
		NATSURL: url, NATSOptions: append(opts, natsTimeout())})
	if err == nil {
		conn.Close()
	}
	return err, time.Since(start)
}

func TestNATSConnectionSecurity(t *testing.T) {
	ca, other := newCA(t, "tributary-test"), newCA(t, "someone-else")
	now := time.Now()
	url := tlsNATS(t, ca, now.Add(-time.Hour), now.Add(time.Hour))
	expiredURL := tlsNATS(t, ca, now.Add(-48*time.Hour), now.Add(-24*time.Hour))
	good := secure.NATS{User: "alice", TLS: secure.TLS{CAFile: ca.CAFile}}
	good.Password = secretOf(t, password)

	if err, took := dial(t, url, good); err != nil {
		t.Fatalf("right user, password and CA: %v (%s)", err, took)
	}
	withURLPassword := strings.Replace(url, "nats://", "nats://alice:"+password+"@", 1)
	if err, _ := dial(t, withURLPassword, secure.NATS{TLS: secure.TLS{CAFile: ca.CAFile}}); err != nil {
		t.Fatalf("credentials in the URL: %v", err)
	}

	wrong := good
	wrong.Password = secretOf(t, "wrong-"+password)
	unknown := good
	unknown.User = "mallory"
	untrusted := good
	untrusted.TLS.CAFile = other.CAFile
	plaintext := good
	plaintext.TLS = secure.TLS{}
	badURL := strings.Replace(url, "nats://", "nats://alice:wrong-"+password+"@", 1)
	for _, tc := range []struct {
		name  string
		url   string
		n     secure.NATS
		cause string
	}{
		{"wrong password", url, wrong, "Authorization Violation"},
		{"unknown user", url, unknown, "Authorization Violation"},
		{"untrusted certificate", url, untrusted, "certificate"},
		{"expired certificate", expiredURL, good, "expired"},
		{"plaintext to the TLS port", url, plaintext, "tls"},
		{"wrong password in the URL", badURL, secure.NATS{TLS: secure.TLS{CAFile: ca.CAFile}}, "Authorization Violation"},
	} {
		err, took := dial(t, tc.url, tc.n)
		if err == nil {
			t.Errorf("%s: connected", tc.name)
			continue
		}
		msg := err.Error()
		t.Logf("%s (%s): %s", tc.name, took.Round(time.Millisecond), msg)
		if !strings.Contains(msg, "connect nats") || !strings.Contains(strings.ToLower(msg), strings.ToLower(tc.cause)) {
			t.Errorf("%s: error %q does not name the connection and %q", tc.name, msg, tc.cause)
		}
		if strings.Contains(msg, password) {
			t.Errorf("%s: error shows the password: %q", tc.name, msg)
		}
		if took > 10*time.Second {
			t.Errorf("%s: took %s to fail", tc.name, took)
		}
	}
}
