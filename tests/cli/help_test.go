// Package cli tests what every command does before it does anything: help
// and exit codes, the same for all of them.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// commands is every binary the modules ship.
var commands = []string{
	"github.com/tributary-io/tributary/consumers/cmd/tributary-ingest",
	"github.com/tributary-io/tributary/processors/cmd/tributary-detect",
	"github.com/tributary-io/tributary/processors/cmd/tributary-detect-stream",
	"github.com/tributary-io/tributary/processors/cmd/tributary-query",
	"github.com/tributary-io/tributary/producers/cmd/tributary-publish",
	"github.com/tributary-io/tributary/producers/cmd/tributary-sim",
	"github.com/tributary-io/tributary/infra/cmd/tributary-stack",
}

// TestHelpConnectsNowhere: -h and --help print help and exit 0 within 5 s,
// with every server address unreachable (tributary-detect-stream -h used
// to start the live detector); an unknown flag exits 2.
func TestHelpConnectsNowhere(t *testing.T) {
	dir := t.TempDir()
	args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, commands...)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	env := append(os.Environ(),
		"TRIBUTARY_NATS_URL=nats://127.0.0.1:1", "TRIBUTARY_KAFKA_BROKERS=127.0.0.1:1",
		"TRIBUTARY_CLICKHOUSE_ADDR=127.0.0.1:1", "TRIBUTARY_STACK_DIR="+t.TempDir())
	for _, pkg := range commands {
		name := filepath.Base(pkg)
		for _, tc := range []struct {
			arg  string
			code int
		}{{"-h", 0}, {"--help", 0}, {"-no-such-flag", 2}} {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			cmd := exec.CommandContext(ctx, filepath.Join(dir, name), tc.arg)
			cmd.Env = env
			cmd.Stdin = strings.NewReader("")
			out, err := cmd.CombinedOutput()
			timedOut := errors.Is(ctx.Err(), context.DeadlineExceeded)
			cancel()
			code := 0
			var ee *exec.ExitError
			switch {
			case timedOut:
				t.Errorf("%s %s: still running after 5 s (it must not connect anywhere)", name, tc.arg)
				continue
			case errors.As(err, &ee):
				code = ee.ExitCode()
			case err != nil:
				t.Fatalf("%s %s: %v", name, tc.arg, err)
			}
			if code != tc.code {
				t.Errorf("%s %s: exit %d, want %d\n%s", name, tc.arg, code, tc.code, out)
			}
			if tc.code == 0 && !strings.Contains(strings.ToLower(string(out)), "usage") {
				t.Errorf("%s %s printed no usage:\n%s", name, tc.arg, out)
			}
		}
	}
}

// build compiles every command into a temporary folder.
func build(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	args := append([]string{"build", "-o", dir + string(os.PathSeparator)}, commands...)
	if out, err := exec.Command("go", args...).CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return dir
}

// runCmd runs one command with a 5 s limit and returns its exit code and
// output.
func runCmd(t *testing.T, path string, env []string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader("")
	out, err := cmd.CombinedOutput()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("%s %v: still running after 5 s (it must not connect anywhere)", filepath.Base(path), args)
	}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		return ee.ExitCode(), string(out)
	case err != nil:
		t.Fatalf("%s %v: %v", filepath.Base(path), args, err)
	}
	return 0, string(out)
}

// TestSharedSettingsHaveOneName: a setting is called the same in every
// binary that takes it, and the old per-binary names are gone.
func TestSharedSettingsHaveOneName(t *testing.T) {
	dir := build(t)
	takes := map[string][]string{
		"tributary-ingest":        {"-nats-url", "-kafka-brokers", "-clickhouse-addr", "-clickhouse-database", "-log-level", "-log-format", "-config", "-http", "-group"},
		"tributary-detect-stream": {"-nats-url", "-kafka-brokers", "-log-level", "-log-format", "-config", "-http", "-group"},
		"tributary-query":         {"-clickhouse-addr", "-clickhouse-database", "-clickhouse-user", "-config"},
		"tributary-publish":       {"-nats-url", "-kafka-brokers", "-log-level", "-log-format", "-config"},
		"tributary-sim":           {"-nats-url", "-kafka-brokers", "-log-level", "-log-format", "-config"},
		"tributary-detect":        {"-config"},
	}
	gone := []string{"-nats ", "-kafka ", "-clickhouse ", "-database "}
	for name, flags := range takes {
		_, out := runCmd(t, filepath.Join(dir, name), os.Environ(), "-h")
		for _, f := range flags {
			if !strings.Contains(out, "  "+f+" ") && !strings.Contains(out, "  "+f+"\n") {
				t.Errorf("%s -h does not list %s", name, f)
			}
		}
		for _, f := range gone {
			if strings.Contains(out, "  "+f) {
				t.Errorf("%s -h still lists the old flag %s", name, strings.TrimSpace(f))
			}
		}
	}
}

// TestValidateConnectsNowhere: "validate" checks a settings file without
// connecting (every address is unreachable), says it is valid, and names
// the line and key of a mistake, with exit code 2.
func TestValidateConnectsNowhere(t *testing.T) {
	dir := build(t)
	root := filepath.Join("..", "..", "infra", "settings")
	env := append(os.Environ(), "TRIBUTARY_NATS_URL=nats://127.0.0.1:1", "TRIBUTARY_KAFKA_BROKERS=127.0.0.1:1", "TRIBUTARY_CLICKHOUSE_ADDR=127.0.0.1:1")
	for _, tc := range []struct {
		name, file string
	}{
		{"tributary-ingest", filepath.Join(root, "ingest.yaml")},
		{"tributary-detect-stream", filepath.Join(root, "detect-stream.yaml")},
	} {
		if code, out := runCmd(t, filepath.Join(dir, tc.name), env, "validate", tc.file); code != 0 || !strings.Contains(out, "settings are valid") {
			t.Errorf("%s validate %s: exit %d\n%s", tc.name, tc.file, code, out)
		}
		data, err := os.ReadFile(tc.file)
		if err != nil {
			t.Fatal(err)
		}
		bad := filepath.Join(t.TempDir(), "bad.yaml")
		if err := os.WriteFile(bad, append(data, "log-levl: debug\n"...), 0o600); err != nil {
			t.Fatal(err)
		}
		line := strings.Count(string(data), "\n") + 1
		code, out := runCmd(t, filepath.Join(dir, tc.name), env, "validate", bad)
		want := fmt.Sprintf(`line %d: log-levl: no such setting; did you mean "log-level"?`, line)
		if code != 2 || !strings.Contains(out, want) {
			t.Errorf("%s validate with a misspelt key: exit %d, want 2 and %q\n%s", tc.name, code, want, out)
		}
	}
	// A value is checked as the binary would check it at start.
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	if err := os.WriteFile(bad, []byte("batch-rows: -5\nlog-format: xml\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out := runCmd(t, filepath.Join(dir, "tributary-ingest"), env, "validate", bad)
	if code != 2 || !strings.Contains(out, "-batch-rows") {
		t.Errorf("ingest validate with batch-rows -5: exit %d\n%s", code, out)
	}
	// Variables beat the file, flags beat variables.
	for _, tc := range []struct {
		env  []string
		args []string
	}{
		{append(env, "TRIBUTARY_LOG_FORMAT=xml"), []string{"validate", filepath.Join(root, "ingest.yaml")}},
		{env, []string{"validate", filepath.Join(root, "ingest.yaml"), "-log-format", "xml"}},
	} {
		if code, out := runCmd(t, filepath.Join(dir, "tributary-ingest"), tc.env, tc.args...); code != 2 || !strings.Contains(out, "xml") {
			t.Errorf("ingest %v with log-format xml from outside the file: exit %d\n%s", tc.args, code, out)
		}
	}
}
