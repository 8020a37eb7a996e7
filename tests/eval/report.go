package eval

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tributary-io/tributary/producers/sim"
)

// Goals of issue 6: per injected kind, for detectors and SQL alike.
const (
	GoalF1          = 0.95
	GoalDelayMedian = 10 * time.Second
)

// DefaultTolerance widens truth windows when matching (see Matches).
const DefaultTolerance = 15 * time.Second

// Report is a scored run: what out/eval.json holds.
type Report struct {
	RunID     string            `json:"run_id"`
	Scenario  string            `json:"scenario"`
	Seed      uint64            `json:"seed"`
	Database  string            `json:"database"`
	Tenants   []string          `json:"tenants"`
	Start     time.Time         `json:"start"`
	End       time.Time         `json:"end"`
	Until     time.Time         `json:"detectors_stopped"`
	CatchUp   time.Duration     `json:"detector_catch_up_ns"`
	Published int64             `json:"published"`
	Failed    int64             `json:"publish_failed"`
	Landed    uint64            `json:"landed"`
	Delivered map[string]uint64 `json:"delivered"`
	Tolerance time.Duration     `json:"tolerance_ns"`
	Detectors []KindScore       `json:"detectors"`
	Queries   []KindScore       `json:"queries"`
	// Delay over every detected injected anomaly (streaming).
	DelayMedian time.Duration `json:"delay_median_ns"`
	DelayP90    time.Duration `json:"delay_p90_ns"`
	// BelowGoal names each injected kind and source short of GoalF1, and
	// the streaming delay if its median exceeds GoalDelayMedian.
	BelowGoal []string    `json:"below_goal"`
	Truth     []sim.Truth `json:"truth"`
	Findings  []Finding   `json:"findings"`
}

// NewReport scores a run.
func NewReport(res *Result, tol time.Duration) Report {
	r := Report{RunID: res.RunID, Scenario: res.Publish.Scenario, Seed: res.Publish.Seed, Database: res.Database,
		Tenants: res.Tenants, Start: res.Start, End: res.End, Until: res.Until, CatchUp: res.CatchUp,
		Published: res.Publish.Published, Failed: res.Publish.Failed, Landed: res.Landed, Delivered: res.Delivered,
		Tolerance: tol, Truth: res.Truth, Findings: append(append([]Finding(nil), res.Detected...), res.Queried...)}
	r.Detectors = Score(res.Truth, res.Detected, SourceDetector, tol)
	r.Queries = Score(res.Truth, res.Queried, SourceQuery, tol)
	var n int
	r.DelayMedian, r.DelayP90, n = AllDelays(r.Detectors)
	for _, ks := range append(append([]KindScore(nil), r.Detectors...), r.Queries...) {
		if ks.IsInjected() && ks.F1 < GoalF1 {
			r.BelowGoal = append(r.BelowGoal, fmt.Sprintf("%s %s: F1 %.2f", ks.Source, ks.Kind, ks.F1))
		}
	}
	if n > 0 && r.DelayMedian > GoalDelayMedian {
		r.BelowGoal = append(r.BelowGoal, fmt.Sprintf("streaming delay median %s > %s", r.DelayMedian.Round(100*time.Millisecond), GoalDelayMedian))
	}
	return r
}

// Table renders the scores for people.
func (r Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s, scenario %s (seed %d), tenants %s: %d events published, %d landed in %s\n",
		r.RunID, r.Scenario, r.Seed, strings.Join(r.Tenants, ", "), r.Published, r.Landed, r.Database)
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "source\tkind\tinjected\tdetected\tfindings\tFP\tprecision\trecall\tF1\tdelay p50\tdelay p90\t by")
	rows := func(ks []KindScore, injected bool) {
		for _, k := range ks {
			if k.IsInjected() != injected {
				continue
			}
			p50, p90 := "-", "-"
			if len(k.Delays) > 0 {
				p50, p90 = sec(k.DelayMedian), sec(k.DelayP90)
			}
			if !injected {
				fmt.Fprintf(w, "%s\t%s\t-\t-\t%d\t%d\t-\t-\t-\t-\t-\t %d related to injected incidents\n",
					k.Source, k.Kind, k.Findings, len(k.False), k.Related)
				continue
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%s\t%s\t %s\n", k.Source, k.Kind, k.Injected, k.Detected,
				k.Findings, len(k.False), k.Precision, k.Recall, k.F1, p50, p90, strings.Join(k.By, ","))
		}
	}
	rows(r.Detectors, true)
	rows(r.Queries, true)
	_ = w.Flush()
	fmt.Fprintf(&b, "streaming detection delay over all detected anomalies: median %s, p90 %s (goal: median <= %s)\n",
		sec(r.DelayMedian), sec(r.DelayP90), GoalDelayMedian)
	b.WriteString("kinds found but not injected:\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	rows(r.Detectors, false)
	rows(r.Queries, false)
	_ = w.Flush()
	for _, ks := range append(append([]KindScore(nil), r.Detectors...), r.Queries...) {
		if len(ks.Missed) > 0 {
			fmt.Fprintf(&b, "  %s %s missed: %s\n", ks.Source, ks.Kind, entityList(ks.Missed, 4))
		}
		if ks.IsInjected() && len(ks.False) > 0 {
			fmt.Fprintf(&b, "  %s %s false: %s\n", ks.Source, ks.Kind, entityList(ks.False, 4))
		}
	}
	if len(r.BelowGoal) == 0 {
		fmt.Fprintf(&b, "every injected kind meets F1 >= %.2f for detectors and SQL\n", GoalF1)
	} else {
		fmt.Fprintf(&b, "below goal: %s\n", strings.Join(r.BelowGoal, "; "))
	}
	return b.String()
}

func sec(d time.Duration) string { return fmt.Sprintf("%.1fs", d.Seconds()) }

// WriteJSON writes the report to path, creating its directory.
func (r Report) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return fmt.Errorf("eval: encode report: %w", err)
	}
	if err := os.WriteFile(path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	return nil
}
