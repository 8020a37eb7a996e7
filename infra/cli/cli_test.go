package cli

import (
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type settings struct {
	addr    string
	brokers string
	rows    int
}

func newFlags() (*flag.FlagSet, *settings) {
	var s settings
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&s.addr, "clickhouse-addr", "default:9000", "")
	fs.StringVar(&s.brokers, "kafka-brokers", "", "")
	fs.IntVar(&s.rows, "batch-rows", 0, "")
	return fs, &s
}

func writeFile(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "settings.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestParsePrecedence(t *testing.T) {
	file := "clickhouse-addr: file:9000\nkafka-brokers: [k1:9092, k2:9092]\nbatch-rows: 7\n"
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want settings
	}{
		{"file only", nil, nil, settings{"file:9000", "k1:9092,k2:9092", 7}},
		{"env beats file", nil, map[string]string{"TRIBUTARY_CLICKHOUSE_ADDR": "env:9000"}, settings{"env:9000", "k1:9092,k2:9092", 7}},
		{"flag beats env", []string{"-clickhouse-addr", "flag:9000"}, map[string]string{"TRIBUTARY_CLICKHOUSE_ADDR": "env:9000"}, settings{"flag:9000", "k1:9092,k2:9092", 7}},
		{"empty variable is unset", nil, map[string]string{"TRIBUTARY_BATCH_ROWS": ""}, settings{"file:9000", "k1:9092,k2:9092", 7}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// A shell with the local stack's env file sourced sets these.
			for _, k := range []string{"TRIBUTARY_CLICKHOUSE_ADDR", "TRIBUTARY_KAFKA_BROKERS", "TRIBUTARY_BATCH_ROWS"} {
				t.Setenv(k, "")
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs, s := newFlags()
			args := append([]string{"-config", writeFile(t, file)}, tt.args...)
			if _, err := Parse(fs, args); err != nil {
				t.Fatal(err)
			}
			if *s != tt.want {
				t.Fatalf("got %+v, want %+v", *s, tt.want)
			}
		})
	}
}

func TestParseErrorsNameTheSetting(t *testing.T) {
	tests := []struct {
		name string
		file string
		env  map[string]string
		args []string
		want []string
	}{
		{"misspelt key", "clickhouse-addr: a:1\nbatch-row: 5\n", nil, nil, []string{"line 2", "batch-row", `did you mean "batch-rows"`}},
		{"bad value", "batch-rows: many\n", nil, nil, []string{"line 1", "batch-rows", "many"}},
		{"nested", "clickhouse:\n  addr: a:1\n", nil, nil, []string{"line 1", "clickhouse", "flat"}},
		{"not a mapping", "- a\n- b\n", nil, nil, []string{"line 1", "mapping"}},
		{"bad variable", "", map[string]string{"TRIBUTARY_BATCH_ROWS": "x"}, nil, []string{"TRIBUTARY_BATCH_ROWS", "batch-rows"}},
		{"bad flag", "", nil, []string{"-batch-rows", "x"}, []string{"batch-rows"}},
		{"missing file", "", nil, []string{"-config", "/nonexistent/settings.yaml"}, []string{"/nonexistent/settings.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs, _ := newFlags()
			args := tt.args
			if tt.file != "" {
				args = append([]string{"-config", writeFile(t, tt.file)}, args...)
			}
			_, err := Parse(fs, args)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestParseValidateSubcommand(t *testing.T) {
	fs, s := newFlags()
	validate, err := Parse(fs, []string{"validate", writeFile(t, "TRIBUTARY_BATCH_ROWS: 3\n"), "-kafka-brokers", "k:1"})
	if err != nil {
		t.Fatal(err)
	}
	if !validate || s.rows != 3 || s.brokers != "k:1" {
		t.Fatalf("validate %v, settings %+v", validate, *s)
	}
	fs, _ = newFlags()
	if validate, _ := Parse(fs, []string{"-batch-rows", "1"}); validate {
		t.Fatal("validate without the subcommand")
	}
}

func TestParseHelp(t *testing.T) {
	fs, _ := newFlags()
	if _, err := Parse(fs, []string{"-h"}); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("got %v, want flag.ErrHelp", err)
	}
}

func TestParseAfterPositionals(t *testing.T) {
	// A binary that parsed its own command line: flags it set stay, the
	// rest come from the environment.
	t.Setenv("TRIBUTARY_CLICKHOUSE_ADDR", "env:9000")
	t.Setenv("TRIBUTARY_BATCH_ROWS", "9")
	fs, s := newFlags()
	if err := fs.Parse([]string{"-batch-rows", "2"}); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	if s.addr != "env:9000" || s.rows != 2 {
		t.Fatalf("got %+v", *s)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{"clickhouse-addr": "TRIBUTARY_CLICKHOUSE_ADDR", "log-level": "TRIBUTARY_LOG_LEVEL", "config": "TRIBUTARY_CONFIG"} {
		if got := EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}
