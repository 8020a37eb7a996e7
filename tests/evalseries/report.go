package evalseries

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
)

// Result is one series' or group's outcome under every profile.
type Result struct {
	Name     string             `json:"name"`
	Family   string             `json:"family,omitempty"`
	Points   int                `json:"points"`
	Series   int                `json:"series,omitempty"`
	Windows  []Window           `json:"windows,omitempty"`
	Outcomes map[string]Outcome `json:"outcomes"`
}

// Report is the evaluation of one detector on a corpus.
type Report struct {
	Detector   string             `json:"detector"`
	Thresholds map[string]float64 `json:"thresholds"`
	Series     []Result           `json:"series"`
	Families   []Result           `json:"families"`
	Total      Result             `json:"total"`
}

// NewReport chooses each profile's corpus threshold and scores every
// series, family and the whole corpus at it.
func NewReport(detector string, corpus []Series) (*Report, error) {
	r := &Report{Detector: detector, Thresholds: map[string]float64{}}
	fams := map[string]*Result{}
	r.Total = Result{Name: "total", Outcomes: map[string]Outcome{}}
	for _, s := range corpus {
		res := Result{Name: s.Name, Family: s.Family, Points: len(s.Scores), Windows: s.Windows, Outcomes: map[string]Outcome{}}
		r.Series = append(r.Series, res)
		if fams[s.Family] == nil {
			fams[s.Family] = &Result{Name: s.Family, Outcomes: map[string]Outcome{}}
			r.Families = append(r.Families, Result{Name: s.Family})
		}
		f := fams[s.Family]
		f.Points += len(s.Scores)
		f.Series++
		r.Total.Points += len(s.Scores)
		r.Total.Series++
	}
	for _, p := range Profiles {
		th, err := Threshold(corpus, p)
		if err != nil {
			return nil, err
		}
		r.Thresholds[p.Name] = th
		tot := Outcome{}
		famOut := map[string]*Outcome{}
		for i, s := range corpus {
			o := s.Evaluate(p, th)
			r.Series[i].Outcomes[p.Name] = o
			if famOut[s.Family] == nil {
				famOut[s.Family] = &Outcome{}
			}
			famOut[s.Family].add(o)
			tot.add(o)
		}
		for name, o := range famOut {
			o.FPAt, o.DetectedAt = nil, nil
			fams[name].Outcomes[p.Name] = *o
		}
		r.Total.Outcomes[p.Name] = tot
	}
	for i := range r.Families {
		r.Families[i] = *fams[r.Families[i].Name]
	}
	return r, nil
}

// Below lists the series and families that score below min under p.
func (r *Report) Below(p Profile, min float64) []string {
	var out []string
	for _, s := range r.Series {
		if o := s.Outcomes[p.Name]; o.Normalized < min {
			out = append(out, fmt.Sprintf("series %s/%s: %.1f", s.Family, s.Name, o.Normalized))
		}
	}
	for _, f := range r.Families {
		if o := f.Outcomes[p.Name]; o.Normalized < min {
			out = append(out, fmt.Sprintf("family %s: %.1f", f.Name, o.Normalized))
		}
	}
	return out
}

// Table prints the series, the families and the totals.
func (r *Report) Table() string {
	var b strings.Builder
	fmt.Fprintf(&b, "detector: %s\n", r.Detector)
	fmt.Fprintf(&b, "thresholds: standard %.6g, reward_low_fp %.6g, reward_low_fn %.6g (one per profile, chosen for the whole corpus)\n\n",
		r.Thresholds[Standard.Name], r.Thresholds[RewardLowFP.Name], r.Thresholds[RewardLowFN.Name])
	row := func(w *tabwriter.Writer, first string, res Result) {
		st := res.Outcomes[Standard.Name]
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%.1f\t%.1f\t%.1f\t\n", first, res.Points, st.Windows, st.Detected, st.FP,
			st.Normalized, res.Outcomes[RewardLowFP.Name].Normalized, res.Outcomes[RewardLowFN.Name].Normalized)
	}
	head := "\tpoints\twindows\tdetected\tFP\tstandard\tlow_FP\tlow_FN\t\n"
	w := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "series"+head)
	for _, s := range r.Series {
		row(w, s.Family+"/"+s.Name, s)
	}
	w.Flush()
	b.WriteString("\n")
	w = tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprint(w, "family"+head)
	for _, f := range r.Families {
		row(w, fmt.Sprintf("%s (%d)", f.Name, f.Series), f)
	}
	row(w, fmt.Sprintf("TOTAL (%d)", r.Total.Series), r.Total)
	w.Flush()
	b.WriteString("\nscores: 0 = never alerting, 100 = every window caught at its start with no false alarm;\n" +
		"a series without anomalies scores 0 when silent and below 0 for each false alarm.\n")
	return b.String()
}

// WriteJSON writes the report to path, creating its folder.
func (r *Report) WriteJSON(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(data, '\n'), 0o644)
}

// Curve is the corpus score under p at each of the given thresholds: how
// much a threshold other than the best one costs.
func Curve(corpus []Series, p Profile, ths []float64) []Outcome {
	out := make([]Outcome, len(ths))
	for i, th := range ths {
		for _, s := range corpus {
			out[i].add(s.Evaluate(p, th))
		}
	}
	return out
}

// BelowAt counts, at each threshold, the series that score below 0 under
// p: where a threshold stops paging on series without anomalies.
func BelowAt(corpus []Series, p Profile, ths []float64) []int {
	out := make([]int, len(ths))
	for i, th := range ths {
		for _, s := range corpus {
			if s.Evaluate(p, th).Normalized < 0 {
				out[i]++
			}
		}
	}
	return out
}
