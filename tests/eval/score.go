package eval

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
)

// Source says which half of the platform found something.
type Source string

const (
	SourceDetector Source = "detector" // streaming detectors, via the anomalies table
	SourceQuery    Source = "sql"      // processors/queries over the ingested tables
)

// Finding is one anomaly as a detector published it or a query returned
// it, in the same vocabulary as the ground truth (producers/sim Truth).
type Finding struct {
	Source   Source            `json:"source"`
	By       string            `json:"by"` // detector or query name
	Tenant   string            `json:"tenant"`
	Kind     string            `json:"kind"`
	Entity   schemas.Entity    `json:"entity"`
	Start    time.Time         `json:"window_start"`
	End      time.Time         `json:"window_end"`
	Emitted  time.Time         `json:"emitted,omitzero"` // detector findings: when it was published
	Evidence map[string]string `json:"evidence,omitempty"`
}

// Matches says whether f reports the injected anomaly t: same tenant, same
// kind, the same entity — the truth's own, one it lists as related (a
// stuck_task's task_id), or the series the finding names in its evidence
// (a stuck task's "series=task:<type>/<queue>") — and windows overlapping
// within tol (findings are stored with whole seconds; windows of bucketed
// queries are the events' span within a bucket).
func Matches(t sim.Truth, f Finding, tol time.Duration) bool {
	if f.Tenant != t.Tenant || f.Kind != string(t.Kind) {
		return false
	}
	if f.Start.After(t.End.Add(tol)) || f.End.Before(t.Start.Add(-tol)) {
		return false
	}
	return f.Entity == t.Entity || slices.Contains(t.Related, f.Entity) || f.Evidence["series"] == t.Entity.String()
}

// related says whether f, of a kind nothing injected, is about an entity
// of an injected incident in its window (a brute force's attacker IP, the
// impossible traveller's new country): a second view of a true incident,
// not a false alarm.
func related(truth []sim.Truth, f Finding, tol time.Duration) bool {
	for _, t := range truth {
		if f.Tenant != t.Tenant || f.Start.After(t.End.Add(tol)) || f.End.Before(t.Start.Add(-tol)) {
			continue
		}
		if f.Entity == t.Entity || slices.Contains(t.Related, f.Entity) {
			return true
		}
	}
	return false
}

// KindScore is one source's result for one kind.
type KindScore struct {
	Source   Source `json:"source"`
	Kind     string `json:"kind"`
	Injected int    `json:"injected"` // ground-truth anomalies
	Detected int    `json:"detected"` // of them, found by at least one finding
	Findings int    `json:"findings"`
	Matched  int    `json:"matched"` // findings that match an injected anomaly
	// Related counts, for kinds nothing injected, findings about an
	// injected incident's entities (see related).
	Related   int     `json:"related,omitempty"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
	// Delays (detector findings only): first matching finding's publish
	// time minus the injected anomaly's start, per detected anomaly.
	Delays      []time.Duration `json:"delays_ns,omitempty"`
	DelayMedian time.Duration   `json:"delay_median_ns,omitempty"`
	DelayP90    time.Duration   `json:"delay_p90_ns,omitempty"`
	By          []string        `json:"by,omitempty"`     // detectors or queries that matched
	Missed      []string        `json:"missed,omitempty"` // entities of undetected anomalies
	False       []string        `json:"false,omitempty"`  // entities of unmatched findings
}

// IsInjected reports whether the kind was in the ground truth.
func (k KindScore) IsInjected() bool { return k.Injected > 0 }

// Score compares one source's findings with the ground truth: a row per
// injected kind (in truth order), then a row per kind found but never
// injected.
func Score(truth []sim.Truth, found []Finding, src Source, tol time.Duration) []KindScore {
	var kinds []string
	for _, t := range truth {
		if !slices.Contains(kinds, string(t.Kind)) {
			kinds = append(kinds, string(t.Kind))
		}
	}
	injected := len(kinds)
	for _, f := range found {
		if f.Source == src && !slices.Contains(kinds, f.Kind) {
			kinds = append(kinds, f.Kind)
		}
	}
	slices.Sort(kinds[injected:])
	out := make([]KindScore, 0, len(kinds))
	for _, kind := range kinds {
		ks := KindScore{Source: src, Kind: kind}
		var fs []Finding
		for _, f := range found {
			if f.Source == src && f.Kind == kind {
				fs = append(fs, f)
			}
		}
		ks.Findings = len(fs)
		hit := make([]bool, len(fs))
		for _, t := range truth {
			if string(t.Kind) != kind {
				continue
			}
			ks.Injected++
			first, ok := time.Time{}, false
			for i, f := range fs {
				if !Matches(t, f, tol) {
					continue
				}
				hit[i], ok = true, true
				if !slices.Contains(ks.By, f.By) {
					ks.By = append(ks.By, f.By)
				}
				if !f.Emitted.IsZero() && (first.IsZero() || f.Emitted.Before(first)) {
					first = f.Emitted
				}
			}
			if !ok {
				ks.Missed = append(ks.Missed, t.Tenant+" "+t.Entity.String())
				continue
			}
			ks.Detected++
			if !first.IsZero() {
				ks.Delays = append(ks.Delays, first.Sub(t.Start))
			}
		}
		for i, f := range fs {
			switch {
			case hit[i]:
				ks.Matched++
			case ks.Injected == 0 && related(truth, f, tol):
				ks.Related++
			default:
				ks.False = append(ks.False, f.Tenant+" "+f.Entity.String())
			}
		}
		ks.finish()
		out = append(out, ks)
	}
	return out
}

func (ks *KindScore) finish() {
	if ks.Findings > 0 {
		ks.Precision = float64(ks.Matched) / float64(ks.Findings)
	}
	if ks.Injected > 0 {
		ks.Recall = float64(ks.Detected) / float64(ks.Injected)
	}
	if ks.Precision+ks.Recall > 0 {
		ks.F1 = 2 * ks.Precision * ks.Recall / (ks.Precision + ks.Recall)
	}
	if len(ks.Delays) > 0 {
		ks.DelayMedian, ks.DelayP90 = quantile(ks.Delays, 0.5), quantile(ks.Delays, 0.9)
	}
}

// quantile is the nearest-rank quantile.
func quantile(ds []time.Duration, q float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// AllDelays pools the delays of every injected kind's rows: the streaming
// path's overall median and p90.
func AllDelays(scores []KindScore) (median, p90 time.Duration, n int) {
	var all []time.Duration
	for _, k := range scores {
		all = append(all, k.Delays...)
	}
	if len(all) == 0 {
		return 0, 0, 0
	}
	return quantile(all, 0.5), quantile(all, 0.9), len(all)
}

// entityList shortens long lists for the table.
func entityList(xs []string, n int) string {
	if len(xs) <= n {
		return strings.Join(xs, ", ")
	}
	return strings.Join(xs[:n], ", ") + ", …"
}
