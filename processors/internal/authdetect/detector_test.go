package authdetect

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func ev(sec float64, p schemas.Payload) stream.Event {
	return stream.Event{ID: uuid.Must(uuid.NewV7()).String(), Tenant: "acme",
		Time: t0.Add(time.Duration(sec * float64(time.Second))), Payload: p}
}

func fail(user, ip string) schemas.LoginFailed {
	return schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: user, SourceIP: ip},
		Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials}
}

func ok(user, ip, country string, lat, lon float64) schemas.LoginSucceeded {
	return schemas.LoginSucceeded{AuthOrigin: schemas.AuthOrigin{User: user, SourceIP: ip,
		Geo: &schemas.Geo{Country: country, Lat: lat, Lon: lon}}, Method: schemas.MethodPassword}
}

// background is normal traffic: a few users logging in from home, the odd
// typo, spread over ten minutes.
func background() []stream.Event {
	var out []stream.Event
	for i := range 120 {
		u := fmt.Sprintf("user-%d", i%12)
		out = append(out, ev(float64(i*5), ok(u, "10.0.0.1", "DE", 52.5, 13.4)))
		if i%10 == 0 {
			out = append(out, ev(float64(i*5)+1, fail(u, "10.0.0.1")))
		}
	}
	return out
}

type found struct{ kind, entity string }

func TestAuthDetector(t *testing.T) {
	tests := []struct {
		name   string
		events func() []stream.Event
		want   []found
	}{
		{"normal traffic is quiet", background, nil},
		{"brute force on one user from one ip", func() []stream.Event {
			out := background()
			for i := range 12 {
				out = append(out, ev(300+float64(i)*2, fail("victim", "203.0.113.9")))
			}
			return out
		}, []found{{KindBruteForceUser, "user:victim"}}},
		{"brute force from one ip on few users", func() []stream.Event {
			out := background()
			for i := range 25 {
				out = append(out, ev(300+float64(i), fail(fmt.Sprintf("u%d", i%3), "203.0.113.9")))
			}
			return out
		}, []found{{KindBruteForceUser, "user:u0"}, {KindBruteForceUser, "user:u1"}, {KindBruteForceUser, "user:u2"}, {KindBruteForceIP, "ip:203.0.113.9"}}},
		{"credential stuffing, out of order", func() []stream.Event {
			out := background()
			for i := range 20 {
				// arrives in reverse order, within the lateness
				out = append(out, ev(310-float64(i)*0.5, fail(fmt.Sprintf("guess-%d", i), "198.51.100.7")))
			}
			return out
		}, []found{{KindCredStuffing, "ip:198.51.100.7"}}},
		{"impossible travel Berlin to Sydney in 30 minutes", func() []stream.Event {
			return []stream.Event{ev(0, ok("bob", "10.0.0.2", "DE", 52.5, 13.4)), ev(1800, ok("bob", "10.9.9.9", "AU", -33.9, 151.2))}
		}, []found{{KindImpossibleTrav, "user:bob"}}},
		{"Berlin to Paris in 3 hours is fine", func() []stream.Event {
			return []stream.Event{ev(0, ok("bob", "10.0.0.2", "DE", 52.5, 13.4)), ev(3*3600, ok("bob", "10.0.0.3", "DE", 48.9, 2.35))}
		}, nil},
		{"new country after warm-up", func() []stream.Event {
			out := background()
			return append(out, ev(700, ok("user-3", "10.0.0.1", "FR", 52.5, 13.4)))
		}, []found{{KindNewCountry, "user:user-3"}}},
		{"new country before warm-up is not reported", func() []stream.Event {
			return []stream.Event{ev(0, ok("eve", "10.0.0.1", "DE", 52.5, 13.4)), ev(60, ok("eve", "10.0.0.1", "FR", 52.5, 13.4))}
		}, nil},
		{"mfa fatigue", func() []stream.Event {
			out := background()
			for i := range 6 {
				out = append(out, ev(200+float64(i)*10, schemas.MFADenied{AuthOrigin: schemas.AuthOrigin{User: "carol", SourceIP: "10.0.0.5"}, Factor: schemas.FactorPush}))
			}
			return out
		}, []found{{KindMFAFatigue, "user:carol"}}},
		{"permission denial burst", func() []stream.Event {
			out := background()
			for i := range 15 {
				out = append(out, ev(200+float64(i), schemas.PermissionDenied{User: "mallory", Role: "viewer", Resource: fmt.Sprintf("/admin/%d", i), Action: "read"}))
			}
			return out
		}, []found{{KindPermissionBurst, "user:mallory"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := New(Config{})
			if err != nil {
				t.Fatal(err)
			}
			events := tt.events()
			slices.SortStableFunc(events, func(a, b stream.Event) int { return a.Time.Compare(b.Time) })
			if tt.name == "credential stuffing, out of order" {
				slices.Reverse(events[len(events)-20:])
			}
			var got []found
			for _, e := range events {
				for _, f := range d.Observe(e) {
					if err := f.Anomaly.Validate(); err != nil {
						t.Fatalf("invalid anomaly: %v", err)
					}
					got = append(got, found{f.Anomaly.Kind, f.Anomaly.Entity.String()})
				}
			}
			slices.SortFunc(got, func(a, b found) int { return cmpFound(a, b) })
			slices.SortFunc(tt.want, func(a, b found) int { return cmpFound(a, b) })
			if !slices.Equal(got, tt.want) {
				t.Fatalf("findings\n got %v\nwant %v", got, tt.want)
			}
		})
	}
}

func cmpFound(a, b found) int {
	if a.kind != b.kind {
		if a.kind < b.kind {
			return -1
		}
		return 1
	}
	switch {
	case a.entity < b.entity:
		return -1
	case a.entity > b.entity:
		return 1
	}
	return 0
}

func TestRedeliveryAndRestore(t *testing.T) {
	d, _ := New(Config{})
	var evs []stream.Event
	for i := range 12 {
		evs = append(evs, ev(float64(i), fail("victim", "203.0.113.9")))
	}
	// Half the burst, snapshot, restore into a fresh detector, the rest
	// twice (redelivered): exactly one finding.
	for _, e := range evs[:6] {
		if f := d.Observe(e); len(f) > 0 {
			t.Fatalf("fired early: %v", f)
		}
	}
	snap, err := d.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	d2, _ := New(Config{})
	if err := d2.Restore(snap); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range append(evs[6:], evs...) {
		n += len(d2.Observe(e))
	}
	if n != 1 {
		t.Fatalf("%d findings after restore and redelivery, want 1", n)
	}
}

func TestHaversine(t *testing.T) {
	if km := haversineKM(52.52, 13.405, 48.8566, 2.3522); km < 870 || km > 885 {
		t.Fatalf("Berlin-Paris %.0f km", km)
	}
}
