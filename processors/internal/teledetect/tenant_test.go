package teledetect

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

// TestSilenceJudgedPerTenant: one tenant's heartbeat an hour ahead used to
// move the single heartbeat watermark, and every host of every other
// tenant was reported silent at once. Each tenant's hosts are now judged
// on that tenant's own heartbeats.
func TestSilenceJudgedPerTenant(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	hb := func(tenant, host string, at time.Duration) []stream.Finding {
		return d.Observe(stream.Event{ID: tenant + host + at.String(), Tenant: tenant, Time: t0.Add(at),
			Payload: schemas.Heartbeat{TelemetrySource: schemas.TelemetrySource{Host: host, Service: "api"}, IntervalMS: 10_000}})
	}
	var found []stream.Finding
	for at := time.Duration(0); at <= time.Minute; at += 10 * time.Second {
		found = append(found, hb("acme", "h1", at)...)
		found = append(found, hb("acme", "h2", at)...)
	}
	found = append(found, hb("skewed", "x", time.Hour)...)
	found = append(found, hb("acme", "h1", 70*time.Second)...)
	for _, f := range found {
		if f.Tenant == "acme" {
			t.Errorf("acme %s %s reported after another tenant's clock ran an hour ahead", f.Anomaly.Kind, f.Anomaly.Entity.ID)
		}
	}
	// acme's own time still decides: h2 stops, h1 goes on.
	for at := 80 * time.Second; at <= 3*time.Minute; at += 10 * time.Second {
		found = append(found, hb("acme", "h1", at)...)
	}
	var silent []string
	for _, f := range found {
		if f.Anomaly.Kind == KindSilentHost {
			silent = append(silent, f.Tenant+"/"+f.Anomaly.Entity.ID)
		}
	}
	if len(silent) != 1 || silent[0] != "acme/h2" {
		t.Errorf("silent hosts %v, want [acme/h2]", silent)
	}
}
