package eval

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
)

// TestHTMLReportInChromium: the demo's report opens in a real headless
// browser (Debian's chromium) without console errors, and shows every
// injected anomaly, found or missed.
func TestHTMLReportInChromium(t *testing.T) {
	browser, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatalf("headless Chromium checks the demo's HTML report: apt-get install chromium (.ci/run does): %v", err)
	}
	t0 := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	spike := sim.Truth{Kind: "metric_spike", Family: schemas.FamilyTelemetry, Tenant: "acme",
		Entity: schemas.Entity{Type: "series", ID: "host-02/cpu.usage"}, Start: t0.Add(60 * time.Second), End: t0.Add(70 * time.Second)}
	brute := sim.Truth{Kind: "brute_force_user", Family: schemas.FamilyAuth, Tenant: "acme",
		Entity: schemas.Entity{Type: "user", ID: "<alice>"}, Start: t0.Add(30 * time.Second), End: t0.Add(40 * time.Second)}
	res := &Result{RunID: "html-test", Start: t0, End: t0.Add(2 * time.Minute), Until: t0.Add(2*time.Minute + 20*time.Second),
		Truth: []sim.Truth{spike, brute},
		Detected: []Finding{{Source: SourceDetector, By: "teledetect", Tenant: "acme", Kind: "metric_spike",
			Entity: spike.Entity, Start: t0.Add(62 * time.Second), End: t0.Add(62 * time.Second)}},
		Queried: []Finding{{Source: SourceQuery, By: "metric_spike", Tenant: "acme", Kind: "metric_spike",
			Entity: spike.Entity, Start: t0.Add(60 * time.Second), End: t0.Add(69 * time.Second)}},
	}
	var pts []Point
	for i := range 140 {
		v := 40.0
		if i >= 60 && i < 70 {
			v = 95
		}
		pts = append(pts, Point{T: t0.Add(time.Duration(i) * time.Second), V: v})
	}
	dir := t.TempDir()
	page := filepath.Join(dir, "report.html")
	if err := WriteHTML(page, res, map[int][]Point{0: pts}, DefaultTolerance); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// The flags keep Chromium off the network (closed here) and logging
	// the page's console to stderr.
	cmd := exec.CommandContext(ctx, browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+filepath.Join(dir, "profile"), "--enable-logging=stderr", "--v=0",
		"--dump-dom", "file://"+page)
	var dom, logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &dom, &logs
	if err := cmd.Run(); err != nil {
		t.Fatalf("chromium: %v\n%s", err, tail(logs.String(), 3000))
	}
	for _, line := range strings.Split(logs.String(), "\n") {
		if strings.Contains(line, "CONSOLE") {
			t.Errorf("console message: %s", line)
		}
	}
	html := dom.String()
	for _, want := range []string{
		`data-kind="metric_spike" data-entity="series:host-02/cpu.usage" data-found="true"`,
		`data-kind="brute_force_user" data-entity="user:&lt;alice&gt;" data-found="false"`,
		"<polyline", "1 of 2 injected anomalies found",
	} {
		if !strings.Contains(html, want) {
			t.Errorf("the page Chromium rendered lacks %q", want)
		}
	}
	if t.Failed() {
		b, _ := os.ReadFile(page)
		t.Logf("page:\n%s\nDOM:\n%s", tail(string(b), 3000), tail(html, 3000))
	}
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}
