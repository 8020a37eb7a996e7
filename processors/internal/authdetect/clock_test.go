package authdetect

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/processors/internal/stream"
)

// TestFutureEventBlindsOnlyItsTenant: one event stamped in 2100 used to
// move the family's single watermark, and every later event of every
// tenant was ignored as late (30 of 30 in the reproduction). With
// a watermark per tenant the other tenant's burst is still seen.
func TestFutureEventBlindsOnlyItsTenant(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	bad := ev(0, fail("x", "198.51.100.1"))
	bad.Tenant, bad.Time = "skewed", time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	d.Observe(bad)
	var kinds []string
	for i := range 30 {
		for _, f := range d.Observe(ev(float64(i), fail("victim", "203.0.113.9"))) {
			kinds = append(kinds, f.Anomaly.Kind)
		}
	}
	if d.Late() != 0 {
		t.Errorf("%d of 30 events of tenant acme ignored as late after tenant skewed's event in 2100", d.Late())
	}
	if len(kinds) == 0 || kinds[0] != KindBruteForceUser {
		t.Errorf("findings %v, want %s for acme's burst", kinds, KindBruteForceUser)
	}
}

// TestClampRestoredClock: a checkpoint saved with a clock in 2100 no
// longer blinds the tenant after a restart once the caller clamps it.
func TestClampRestoredClock(t *testing.T) {
	d, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	bad := ev(0, fail("x", "198.51.100.1"))
	bad.Time = time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)
	d.Observe(bad)
	d.Observe(stream.Event{ID: "other", Tenant: "other", Time: t0, Payload: fail("y", "198.51.100.2")})
	snap, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	r, err := New(Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got := r.ClampClocks(t0.Add(5 * time.Minute)); len(got) != 1 || got[0] != "acme" {
		t.Errorf("clamped %v, want [acme] (tenant other's clock is in range)", got)
	}
	for i := range 10 {
		r.Observe(ev(float64(i), fail("victim", "203.0.113.9")))
	}
	if r.Late() != 0 {
		t.Errorf("%d events of acme late after the clamp", r.Late())
	}
	if wm := r.s.Clocks.Watermark("other"); !wm.Equal(t0.Add(-r.cfg.Lateness)) {
		t.Errorf("tenant other's watermark %s changed by the clamp", wm)
	}
}
