package secure

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/infra/localstack"
	"github.com/tributary-io/tributary/infra/secure"
	"github.com/tributary-io/tributary/tests/testenv"
)

// The secure stack every test of this package shares: started once by
// TestMain on its own folder and ports (every default port plus
// TRIBUTARY_SECURE_TEST_PORT_OFFSET, 20000 unless set: below the kernel's
// ephemeral range, 32768–60999, where an outgoing connection once held the
// NATS monitor port), stopped at the end.
var (
	secureStk *testenv.SecureStack
	secureErr error
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		offset := 20000
		if v := os.Getenv("TRIBUTARY_SECURE_TEST_PORT_OFFSET"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil {
				fmt.Fprintln(os.Stderr, "TRIBUTARY_SECURE_TEST_PORT_OFFSET:", err)
				return 2
			}
			offset = n
		}
		dir, err := os.MkdirTemp("", "secure-test-")
		if err != nil {
			secureErr = err
			return m.Run()
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		secureStk, secureErr = testenv.StartSecureStack(ctx, dir, offset)
		cancel()
		if secureStk != nil {
			defer func() {
				if err := secureStk.Down(); err != nil {
					fmt.Fprintln(os.Stderr, "stop secure stack:", err)
				}
				os.RemoveAll(dir)
			}()
		}
		return m.Run()
	}()
	os.Exit(code)
}

// stack returns the shared secure stack or fails t saying why there is none.
func stack(t *testing.T) *testenv.SecureStack {
	t.Helper()
	if secureStk == nil {
		t.Fatalf("no secure stack: %v", secureErr)
	}
	return secureStk
}

// identity is one user's settings, read from its env file by the same
// Register functions every binary uses.
type identity struct {
	user       string
	vars       map[string]string
	NATS       secure.NATS
	Kafka      secure.Kafka
	ClickHouse secure.ClickHouse
}

func identityOf(t *testing.T, user string) identity {
	t.Helper()
	vars, err := stack(t).Identity(user)
	if err != nil {
		t.Fatalf("identity %s: %v", user, err)
	}
	id := identity{user: user, vars: vars}
	fs := flag.NewFlagSet(user, flag.ContinueOnError)
	getenv := func(k string) string { return vars[k] }
	secure.RegisterNATS(fs, getenv, &id.NATS)
	secure.RegisterKafka(fs, getenv, &id.Kafka)
	secure.RegisterClickHouse(fs, getenv, &id.ClickHouse)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	return id
}

// secrets lists every password of the stack, so a test can check that no
// error shows any of them.
func secrets(t *testing.T) []string {
	t.Helper()
	cfg := stack(t).Config
	var out []string
	for _, server := range []string{localstack.NATS, localstack.Kafka, localstack.ClickHouse} {
		entries, err := os.ReadDir(cfg.PasswordFile(server, ""))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			b, err := os.ReadFile(cfg.PasswordFile(server, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, strings.TrimSpace(string(b)))
		}
	}
	return out
}

// noSecret fails t if msg shows any password of the stack.
func noSecret(t *testing.T, what, msg string) {
	t.Helper()
	for _, s := range append(secrets(t), password) {
		if s != "" && strings.Contains(msg, s) {
			t.Errorf("%s: error shows a password: %q", what, msg)
		}
	}
}

// openClickHouse connects as id to database db.
func openClickHouse(t *testing.T, id identity, db string, readOnly bool) (driver.Conn, error) {
	t.Helper()
	cfg := clickhouse.Config{Addr: id.vars["TRIBUTARY_CLICKHOUSE_ADDR"], Database: db, ReadOnly: readOnly, DialTimeout: 3 * time.Second}
	if err := id.ClickHouse.Apply(&cfg); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return clickhouse.Open(ctx, cfg, nil)
}

// expectFailure checks a refused connection: it failed within limit, its
// error names what and one of causes, and no secret.
func expectFailure(t *testing.T, name string, err error, took, limit time.Duration, what string, causes ...string) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: connected", name)
		return
	}
	msg := err.Error()
	t.Logf("%s (%s): %s", name, took.Round(time.Millisecond), msg)
	named := false
	for _, c := range causes {
		named = named || strings.Contains(strings.ToLower(msg), strings.ToLower(c))
	}
	if !named || !strings.Contains(msg, what) {
		t.Errorf("%s: error %q does not name %q and one of %q", name, msg, what, causes)
	}
	noSecret(t, name, msg)
	if took > limit {
		t.Errorf("%s: took %s to fail (limit %s)", name, took, limit)
	}
}

func containsFold(s, sub string) bool {
	return strings.Contains(strings.ToLower(s), strings.ToLower(sub))
}
