package eval

import (
	"context"
	"fmt"
	"html/template"
	"os"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Point is one value of a metric series, for the report's charts.
type Point struct {
	T time.Time
	V float64
}

// Series reads the metric series each injected anomaly on a series
// ("host/name") concerns, over the run: what the report draws under its
// findings.
func Series(ctx context.Context, db driver.Conn, res *Result) (map[int][]Point, error) {
	out := map[int][]Point{}
	for i, t := range res.Truth {
		if t.Entity.Type != "series" {
			continue
		}
		host, name, ok := strings.Cut(t.Entity.ID, "/")
		if !ok {
			continue
		}
		rows, err := db.Query(ctx, "SELECT event_time, avg(value) FROM telemetry_metrics WHERE tenant = ? AND host = ? AND name = ? AND event_time >= ? AND event_time <= ? GROUP BY event_time ORDER BY event_time",
			t.Tenant, host, name, res.Start, res.Until)
		if err != nil {
			return nil, fmt.Errorf("report series %s: %w", t.Entity, err)
		}
		for rows.Next() {
			var p Point
			if err := rows.Scan(&p.T, &p.V); err != nil {
				rows.Close()
				return nil, fmt.Errorf("report series %s: %w", t.Entity, err)
			}
			out[i] = append(out[i], p)
		}
		rows.Close()
	}
	return out, nil
}

// WriteHTML writes the run as one self-contained HTML file (inline SVG
// and CSS, no script, nothing fetched): per injected anomaly its window,
// the series it concerns when it is a metric, and where the detectors and
// the queries fired.
func WriteHTML(path string, res *Result, series map[int][]Point, tol time.Duration) error {
	type marker struct {
		X              float64
		Source, Label  string
		Matched, Other bool
	}
	type section struct {
		ID, Kind, Tenant, Entity, Window string
		Found, Missed                    bool
		WinX, WinW                       float64
		Line                             string
		Min, Max                         string
		Markers                          []marker
		Findings                         []Finding
	}
	const width, height = 900.0, 160.0
	span := res.Until.Sub(res.Start).Seconds()
	if span <= 0 {
		span = 1
	}
	x := func(t time.Time) float64 {
		v := t.Sub(res.Start).Seconds() / span * width
		return min(max(v, 0), width)
	}
	var secs []section
	for i, t := range res.Truth {
		s := section{ID: fmt.Sprintf("anomaly-%d", i+1), Kind: string(t.Kind), Tenant: t.Tenant, Entity: t.Entity.String(),
			Window: t.Start.UTC().Format("15:04:05") + "–" + t.End.UTC().Format("15:04:05") + " UTC",
			WinX:   x(t.Start), WinW: max(x(t.End)-x(t.Start), 2)}
		for _, f := range append(append([]Finding(nil), res.Detected...), res.Queried...) {
			if !Matches(t, f, tol) {
				continue
			}
			s.Found = true
			s.Findings = append(s.Findings, f)
			s.Markers = append(s.Markers, marker{X: x(f.Start), Source: string(f.Source), Label: f.By, Matched: true})
		}
		s.Missed = !s.Found
		if pts := series[i]; len(pts) > 1 {
			lo, hi := pts[0].V, pts[0].V
			for _, p := range pts {
				lo, hi = min(lo, p.V), max(hi, p.V)
			}
			if hi == lo {
				hi = lo + 1
			}
			var b strings.Builder
			for _, p := range pts {
				fmt.Fprintf(&b, "%.1f,%.1f ", x(p.T), 10+(height-20)*(1-(p.V-lo)/(hi-lo)))
			}
			s.Line, s.Min, s.Max = strings.TrimSpace(b.String()), fmt.Sprintf("%.4g", lo), fmt.Sprintf("%.4g", hi)
		}
		secs = append(secs, s)
	}
	found := 0
	for _, s := range secs {
		if s.Found {
			found++
		}
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	err = reportTemplate.Execute(f, map[string]any{
		"Run": res.RunID, "Start": res.Start.UTC().Format(time.RFC3339), "End": res.Until.UTC().Format(time.RFC3339),
		"Sections": secs, "Found": found, "Total": len(secs), "W": width, "H": height,
		"Detected": len(res.Detected), "Queried": len(res.Queried),
	})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

var reportTemplate = template.Must(template.New("report").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tributary demo {{.Run}}</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}
section{border:1px solid #ddd;border-radius:6px;padding:1em;margin:1em 0}
section.missed{border-color:#c33}
h2{font-size:16px;margin:0 0 .3em}
.found{color:#080}.missed-label{color:#c33}
svg{background:#fafafa;border:1px solid #eee}
table{border-collapse:collapse;margin-top:.5em}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}
.legend span{margin-right:1.5em}
</style></head><body>
<h1>Tributary demo run {{.Run}}</h1>
<p>{{.Start}} to {{.End}} (UTC). {{.Found}} of {{.Total}} injected anomalies found; {{.Detected}} detector findings and {{.Queried}} query rows in all.</p>
<p class="legend"><span style="color:#c33">■ injected window</span><span style="color:#26c">▼ streaming detector</span><span style="color:#2a2">▲ SQL query</span><span style="color:#339">— metric series</span></p>
{{range .Sections}}
<section id="{{.ID}}" class="anomaly{{if .Missed}} missed{{end}}" data-kind="{{.Kind}}" data-entity="{{.Entity}}" data-found="{{.Found}}">
<h2>{{.Kind}} — {{.Entity}} <small>({{.Tenant}}, {{.Window}})</small>
{{if .Found}}<span class="found">found</span>{{else}}<span class="missed-label">missed</span>{{end}}</h2>
<svg width="{{$.W}}" height="{{$.H}}" viewBox="0 0 {{$.W}} {{$.H}}" role="img" aria-label="{{.Kind}} on {{.Entity}}">
<rect x="{{.WinX}}" y="0" width="{{.WinW}}" height="{{$.H}}" fill="#f3c0c0"/>
{{if .Line}}<polyline fill="none" stroke="#339" stroke-width="1" points="{{.Line}}"/>
<text x="4" y="12" font-size="10">{{.Max}}</text><text x="4" y="{{$.H}}" dy="-4" font-size="10">{{.Min}}</text>{{end}}
{{range .Markers}}{{if eq .Source "detector"}}<path d="M{{.X}} 2 l-5 -0 l5 9 l5 -9 z" transform="translate(0,0)" fill="#26c"><title>{{.Label}}</title></path>{{else}}<path d="M{{.X}} 158 l-5 0 l5 -9 l5 9 z" fill="#2a2"><title>{{.Label}}</title></path>{{end}}{{end}}
</svg>
{{if .Findings}}<table><tr><th>source</th><th>by</th><th>entity</th><th>window (UTC)</th></tr>
{{range .Findings}}<tr><td>{{.Source}}</td><td>{{.By}}</td><td>{{.Entity.Type}}:{{.Entity.ID}}</td><td>{{.Start.UTC.Format "15:04:05"}}–{{.End.UTC.Format "15:04:05"}}</td></tr>
{{end}}</table>{{end}}
</section>
{{end}}
</body></html>
`))
