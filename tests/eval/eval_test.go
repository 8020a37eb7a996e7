//go:build eval

package eval

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/tests/testenv"
)

// TestEval runs producers/scenarios/eval.yaml through the whole pipeline on
// real servers and scores detectors and queries against the ground truth,
// printing the table and writing out/eval.json. It fails when the pipeline
// loses events, a kind goes unscored, or a kind or the streaming delay
// falls short of the goals (BelowGoal).
func TestEval(t *testing.T) {
	env := testenv.Get(t)
	data, err := os.ReadFile(filepath.Join("..", "..", "producers", "scenarios", "eval.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	sc, err := sim.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	srv := Servers{NATSURL: env.NATSURL, KafkaBrokers: env.KafkaBrokers, ClickHouseAddr: env.ClickHouseAddr}
	cfg := Config{Servers: srv, Scenario: sc, Seed: 1, Progress: testWriter{t},
		Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}.WithDefaults()
	t.Cleanup(func() {
		if err := Cleanup(context.Background(), srv, cfg.Group(), cfg.Database, true); err != nil {
			t.Logf("cleanup: %v", err)
		}
	})

	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	rep := NewReport(res, DefaultTolerance)
	t.Logf("\n%s", rep.Table())
	out := filepath.Join("..", "..", "out", "eval.json")
	if err := rep.WriteJSON(out); err != nil {
		t.Fatal(err)
	}
	t.Logf("wrote %s", out)

	if rep.Failed != 0 || rep.Published == 0 || int64(rep.Landed) != rep.Published {
		t.Errorf("pipeline: published %d (%d failed), landed %d (%v): every event must land once", rep.Published, rep.Failed, rep.Landed, rep.Delivered)
	}
	for _, table := range eventTables {
		if rep.Delivered[table] == 0 {
			t.Errorf("no %s landed: a family's path (transport or ingest group) is broken", table)
		}
	}
	for _, src := range [][]KindScore{rep.Detectors, rep.Queries} {
		scored := map[string]bool{}
		for _, ks := range src {
			scored[ks.Kind] = ks.IsInjected()
		}
		for _, k := range sim.Kinds() {
			if !scored[string(k)] {
				t.Errorf("kind %s was injected by eval.yaml but not scored", k)
			}
		}
	}
	if len(res.Detected) == 0 {
		t.Error("the detectors published nothing for this run: the anomaly path (detector → bus → ingest → anomalies) is broken")
	}
	if len(rep.BelowGoal) > 0 {
		t.Errorf("below goal: %v", rep.BelowGoal)
	}
}

// testWriter sends progress lines to the test log.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p[:len(p)-min(len(p), 1)]))
	return len(p), nil
}
