package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tributary-io/tributary/tests/eval"
)

// printReport lists every injected anomaly with what found it and how
// fast, then the scores and what was found beyond the injections.
func printReport(out io.Writer, res *eval.Result, rep eval.Report) {
	fmt.Fprintf(out, "\nANOMALY REPORT — %d injected, %d published by the streaming detectors, %d rows from the query library\n\n",
		len(res.Truth), len(res.Detected), len(res.Queried))
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "at\tkind\ttenant\tentity\tstreaming detector\tdelay\tSQL query")
	for _, t := range res.Truth {
		det, delay := "MISSED", "-"
		var first time.Time
		for _, f := range res.Detected {
			if eval.Matches(t, f, rep.Tolerance) && (first.IsZero() || f.Emitted.Before(first)) {
				first, det = f.Emitted, fmt.Sprintf("%s (%s, %s)", f.By, f.Kind, f.Entity)
			}
		}
		if !first.IsZero() {
			delay = fmt.Sprintf("%.1fs", first.Sub(t.Start).Seconds())
		}
		query := "MISSED"
		for _, f := range res.Queried {
			if eval.Matches(t, f, rep.Tolerance) {
				query = f.By
				break
			}
		}
		fmt.Fprintf(w, "+%s\t%s\t%s\t%s\t%s\t%s\t%s\n", t.Start.Sub(res.Start).Round(time.Second), t.Kind, t.Tenant,
			t.Entity, det, delay, query)
	}
	_ = w.Flush()
	fmt.Fprintln(out, "\n(delay: from the anomaly's first injected event to the detector publishing its finding;")
	fmt.Fprintln(out, " silent hosts and stuck tasks are decided only after 3 missed heartbeats / 30 s without an end event, plus 10 s allowed lateness)")

	fmt.Fprintf(out, "\nSCORES per kind (matching: tenant, kind, entity, windows overlapping within %s)\n\n", rep.Tolerance)
	fmt.Fprint(out, rep.Table())

	if extra := extras(res); extra != "" {
		fmt.Fprintf(out, "\nfound beyond the injections (the scenario's own background, or a second view of an incident):\n%s", extra)
	}
}

// extras summarises findings that match no injected anomaly, by kind.
func extras(res *eval.Result) string {
	count := map[string]int{}
	var order []string
	for _, f := range append(append([]eval.Finding(nil), res.Detected...), res.Queried...) {
		matched := false
		for _, t := range res.Truth {
			if eval.Matches(t, f, eval.DefaultTolerance) {
				matched = true
				break
			}
		}
		if matched {
			continue
		}
		k := fmt.Sprintf("%-8s %-24s", f.Source, f.Kind)
		if count[k] == 0 {
			order = append(order, k)
		}
		count[k]++
	}
	var b strings.Builder
	for _, k := range order {
		fmt.Fprintf(&b, "  %s %d\n", k, count[k])
	}
	return b.String()
}

// howTo tells the analyst how to ask ClickHouse the same questions.
func howTo(out io.Writer, res *eval.Result) {
	since := res.Start.Add(-time.Minute).UTC().Format(time.RFC3339)
	t := res.Tenants[0]
	fmt.Fprintf(out, `
QUERY IT YOURSELF (the rows stay in ClickHouse database %[1]s; tenants %[2]s)
  make build                                   # builds bin/tributary-query
  bin/tributary-query list                     # every named query with its parameters
  bin/tributary-query anomalies --tenant %[3]s --since %[4]s
                                               # what the streaming detectors published
  bin/tributary-query brute_force_user --tenant %[3]s --since %[4]s
  bin/tributary-query stuck_task --tenant %[3]s --since %[4]s --param min_age_s=30
  bin/tributary-query --print metric_spike --tenant %[3]s --since %[4]s
                                               # the SQL itself, for clickhouse-client
  (set TRIBUTARY_CLICKHOUSE_DATABASE=%[1]s if it is not the default "tributary")
`, res.Database, strings.Join(res.Tenants, ", "), t, since)
}
