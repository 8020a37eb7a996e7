// Package cli tests what every command does before it does anything: help
// and exit codes, the same for all of them.
package cli

import (
	"context"
	"errors"
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
