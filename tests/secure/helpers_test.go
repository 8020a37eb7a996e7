package secure

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/tributary-io/tributary/infra/secure"
)

// secretOf passes a secret the way a deployment would: in a file.
func secretOf(t *testing.T, value string) secure.Secret {
	t.Helper()
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte(value+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var n secure.NATS
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	secure.RegisterNATS(fs, func(k string) string {
		if k == "TRIBUTARY_NATS_PASSWORD_FILE" {
			return f
		}
		return ""
	}, &n)
	return n.Password
}

// natsTimeout bounds one connection attempt, so a refused one fails fast.
func natsTimeout() nats.Option { return nats.Timeout(3 * time.Second) }
