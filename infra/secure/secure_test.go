package secure

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/infra/clickhouse"
)

func TestRedactURL(t *testing.T) {
	for in, want := range map[string]string{
		"nats://alice:S3cretPass@127.0.0.1:4222": "nats://alice:xxxxx@127.0.0.1:4222",
		"nats://s3cretToken@127.0.0.1:4222":      "nats://xxxxx@127.0.0.1:4222",
		"nats://127.0.0.1:4222":                  "nats://127.0.0.1:4222",
		"nats://a:p1@h1:1, nats://b:p2@h2:2":     "nats://a:xxxxx@h1:1,nats://b:xxxxx@h2:2",
		"nats://al ice:S3cret@bad host%zz":       "[unparsable URL with user information]",
	} {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		if strings.Contains(got, "S3cret") || strings.Contains(got, "p1") {
			t.Errorf("RedactURL(%q) leaks: %q", in, got)
		}
	}
}

func TestSettingsFromFlagsVariablesAndFiles(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("fromfile\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"TRIBUTARY_NATS_USER": "alice", "TRIBUTARY_NATS_PASSWORD": "fromenv",
		"TRIBUTARY_CLICKHOUSE_USER": "ingest", "TRIBUTARY_CLICKHOUSE_PASSWORD_FILE": pwFile}
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	var n NATS
	var c ClickHouse
	RegisterNATS(fs, func(k string) string { return env[k] }, &n)
	RegisterClickHouse(fs, func(k string) string { return env[k] }, &c)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	if pw, _ := n.Password.Value(); n.User != "alice" || pw != "fromenv" {
		t.Errorf("NATS user %q password %q", n.User, pw)
	}
	if opts, err := n.Options(); err != nil || len(opts) != 1 {
		t.Errorf("NATS options %d, %v", len(opts), err)
	}
	var cfg clickhouse.Config
	if err := c.Apply(&cfg); err != nil || cfg.Username != "ingest" || cfg.Password != "fromfile" || cfg.TLS != nil {
		t.Errorf("ClickHouse config user %q password %q TLS %v: %v", cfg.Username, cfg.Password, cfg.TLS, err)
	}
	// Printed settings never show a secret.
	if s := n.Password.String(); s != "[redacted]" {
		t.Errorf("Secret.String() = %q", s)
	}
	// No flag takes a secret's value: only its file.
	for _, name := range []string{"nats-password", "nats-token", "clickhouse-password"} {
		if fs.Lookup(name) != nil || fs.Lookup(name+"-file") == nil {
			t.Errorf("flag -%s exists or -%s-file does not", name, name)
		}
	}
}

func TestSettingErrorsNameTheFlag(t *testing.T) {
	dir := t.TempDir()
	notPEM := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		n    NATS
		want string
	}{
		{"missing CA", NATS{TLS: TLS{CAFile: filepath.Join(dir, "nope.pem")}}, "-nats-tls-ca"},
		{"CA file without PEM", NATS{TLS: TLS{CAFile: notPEM}}, "-nats-tls-ca " + notPEM + ": no PEM"},
		{"cert without key", NATS{TLS: TLS{CertFile: notPEM}}, "-nats-tls-cert and -nats-tls-key"},
		{"bad min version", NATS{TLS: TLS{Enabled: true, MinVersion: "1.0"}}, `-nats-tls-min-version "1.0"`},
		{"password without user", NATS{Password: Secret{value: "x"}}, "-nats-user: required"},
		{"two methods", NATS{User: "a", Password: Secret{value: "x"}, Token: Secret{value: "t"}}, "give one of"},
		{"unreadable password file", NATS{User: "a", Password: Secret{File: filepath.Join(dir, "missing")}}, "-nats-password-file"},
	}
	for _, tt := range tests {
		_, err := tt.n.Options()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestKafkaSecurity(t *testing.T) {
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	if err := os.WriteFile(pwFile, []byte("k-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	ok := Kafka{Mechanism: "SCRAM-SHA-512", User: "ingest", Password: Secret{File: pwFile}, TLS: TLS{Enabled: true}}
	s, err := ok.Security()
	if err != nil || s.SASL == nil || s.SASL.Password != "k-secret" || s.SASL.Username != "ingest" || s.TLS == nil {
		t.Fatalf("Security() = %+v, %v", s, err)
	}
	if s, err := (Kafka{}).Security(); err != nil || s.SASL != nil || s.TLS != nil {
		t.Fatalf("no settings: %+v, %v", s, err)
	}
	for _, tt := range []struct {
		k    Kafka
		want string
	}{
		{Kafka{Mechanism: "GSSAPI", User: "u"}, `-kafka-sasl "GSSAPI"`},
		{Kafka{Mechanism: "PLAIN"}, "-kafka-user: required"},
		{Kafka{User: "u"}, "-kafka-sasl: required"},
		{Kafka{Mechanism: "PLAIN", User: "u", Password: Secret{File: filepath.Join(dir, "missing")}}, "-kafka-password-file"},
	} {
		if _, err := tt.k.Security(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%+v: err = %v, want %q", tt.k, err, tt.want)
		}
	}
}
