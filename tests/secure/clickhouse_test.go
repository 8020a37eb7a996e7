package secure

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestClickHouseCredentials: a wrong password or an unknown user fails at
// Open, naming the server and the cause, never the password; and TLS to
// the plaintext native port fails instead of falling back.
func TestClickHouseCredentials(t *testing.T) {
	env := testenv.Get(t)
	for _, tc := range []struct {
		name  string
		s     secure.ClickHouse
		cause []string // any of
	}{
		{"wrong password", secure.ClickHouse{User: "default", Password: secretOf(t, password)}, []string{"password", "Authentication failed"}},
		{"unknown user", secure.ClickHouse{User: "mallory", Password: secretOf(t, password)}, []string{"Unknown user", "Authentication failed"}},
		{"TLS to the plaintext port", secure.ClickHouse{TLS: secure.TLS{Enabled: true}}, []string{"tls", "TLS", "EOF", "handshake"}},
	} {
		cfg := clickhouse.Config{Addr: env.ClickHouseAddr, Database: "default", ReadOnly: true, DialTimeout: 3 * time.Second}
		if err := tc.s.Apply(&cfg); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		start := time.Now()
		conn, err := clickhouse.Open(ctx, cfg, nil)
		took := time.Since(start)
		cancel()
		if err == nil {
			conn.Close()
			t.Errorf("%s: connected", tc.name)
			continue
		}
		msg := err.Error()
		t.Logf("%s (%s): %s", tc.name, took.Round(time.Millisecond), msg)
		named := false
		for _, c := range tc.cause {
			named = named || strings.Contains(msg, c)
		}
		if !named || !strings.Contains(msg, env.ClickHouseAddr) {
			t.Errorf("%s: error %q does not name the server %s and one of %q", tc.name, msg, env.ClickHouseAddr, tc.cause)
		}
		if strings.Contains(msg, password) {
			t.Errorf("%s: error shows the password", tc.name)
		}
	}
}
