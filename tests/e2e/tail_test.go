package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestQueryTail: `tributary-query tail` follows anomaly events live from
// the bus, filtered by tenant and kind, and prints them as JSON lines.
func TestQueryTail(t *testing.T) {
	env := testenv.Get(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	bin := filepath.Join(t.TempDir(), "tributary-query")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/tributary-io/tributary/processors/cmd/tributary-query").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	tenant := fmt.Sprintf("tail%x", time.Now().UnixNano())
	cmd := exec.CommandContext(ctx, bin, "tail", "--tenant", tenant, "--kind", "metric_spike", "--count", "1", "--format", "json")
	cmd.Env = append(cmd.Environ(), "TRIBUTARY_NATS_URL="+env.NATSURL)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()

	pub, _ := clients(ctx, t, env, "default")
	mk := func(kind string) schemas.Envelope {
		now := time.Now().UTC()
		ev, err := schemas.NewEvent("//tributary/e2e", tenant, schemas.Anomaly{Kind: kind, Family: schemas.FamilyTelemetry,
			Entity: schemas.Entity{Type: "series", ID: "h1/cpu"}, Score: 0.7, Severity: schemas.SeverityHigh,
			WindowStart: now.Add(-time.Second), WindowEnd: now, Detector: "e2e", Evidence: map[string]string{"value": "68.36"}})
		if err != nil {
			t.Fatal(err)
		}
		return ev
	}
	// The tail starts at the stream's end once it is subscribed: publish
	// until it has printed, another kind first, which it must not print.
	tick := time.NewTicker(300 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("tail: %v\n%s", err, errb.String())
			}
			var got map[string]any
			if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &got); err != nil {
				t.Fatalf("tail printed %q: %v", out.String(), err)
			}
			if got["kind"] != "metric_spike" || got["tenant"] != tenant || got["entity"] != "series:h1/cpu" || got["score"] != 0.7 {
				t.Fatalf("tail printed %v", got)
			}
			if strings.Count(out.String(), "\n") != 1 {
				t.Fatalf("tail printed %d lines, want 1 (--count 1)", strings.Count(out.String(), "\n"))
			}
			return
		case <-tick.C:
			for _, kind := range []string{"brute_force_user", "metric_spike"} {
				if _, err := pub.Publish(ctx, mk(kind)); err != nil {
					t.Fatal(err)
				}
			}
		case <-ctx.Done():
			t.Fatalf("tail printed nothing in time: %s", errb.String())
		}
	}
}
