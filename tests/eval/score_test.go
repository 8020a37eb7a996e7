package eval

import (
	"testing"
	"time"

	"github.com/tributary-io/tributary/producers/sim"
	"github.com/tributary-io/tributary/schemas"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func truthOf(kind sim.Kind, tenant, etype, id string, from, to time.Duration, related ...schemas.Entity) sim.Truth {
	return sim.Truth{Kind: kind, Tenant: tenant, Entity: schemas.Entity{Type: etype, ID: id},
		Related: related, Start: t0.Add(from), End: t0.Add(to)}
}

func found(kind, tenant, etype, id string, from, to time.Duration, emitted time.Duration) Finding {
	return Finding{Source: SourceDetector, By: "d", Kind: kind, Tenant: tenant, Entity: schemas.Entity{Type: etype, ID: id},
		Start: t0.Add(from), End: t0.Add(to), Emitted: t0.Add(emitted)}
}

func TestMatches(t *testing.T) {
	bf := truthOf(sim.BruteForceUser, "a", "user", "u1", 10*time.Second, 30*time.Second)
	stuck := truthOf(sim.StuckTask, "a", "task", "x/default", 35*time.Second, 2*time.Minute, schemas.Entity{Type: "task_id", ID: "t9"})
	viaSeries := found("stuck_task", "a", "task_id", "t7", 40*time.Second, 80*time.Second, 80*time.Second)
	viaSeries.Evidence = map[string]string{"series": "task:x/default"}
	tests := []struct {
		name string
		t    sim.Truth
		f    Finding
		want bool
	}{
		{"same everything", bf, found("brute_force_user", "a", "user", "u1", 12*time.Second, 14*time.Second, 15*time.Second), true},
		{"other tenant", bf, found("brute_force_user", "b", "user", "u1", 12*time.Second, 14*time.Second, 15*time.Second), false},
		{"other kind", bf, found("brute_force_ip", "a", "user", "u1", 12*time.Second, 14*time.Second, 15*time.Second), false},
		{"other entity", bf, found("brute_force_user", "a", "user", "u2", 12*time.Second, 14*time.Second, 15*time.Second), false},
		{"within tolerance", bf, found("brute_force_user", "a", "user", "u1", 40*time.Second, 50*time.Second, 50*time.Second), true},
		{"too late", bf, found("brute_force_user", "a", "user", "u1", 50*time.Second, 60*time.Second, 60*time.Second), false},
		{"related task id", stuck, found("stuck_task", "a", "task_id", "t9", 40*time.Second, 80*time.Second, 80*time.Second), true},
		{"series evidence", stuck, viaSeries, true},
	}
	for _, tt := range tests {
		if got := Matches(tt.t, tt.f, DefaultTolerance); got != tt.want {
			t.Errorf("%s: Matches = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestScore(t *testing.T) {
	truth := []sim.Truth{
		truthOf(sim.BruteForceUser, "a", "user", "u1", 10*time.Second, 30*time.Second, schemas.Entity{Type: "ip", ID: "203.0.113.5"}),
		truthOf(sim.BruteForceUser, "a", "user", "u2", 100*time.Second, 120*time.Second),
		truthOf(sim.SilentHost, "a", "host", "h1", 60*time.Second, 90*time.Second),
	}
	fs := []Finding{
		found("brute_force_user", "a", "user", "u1", 10*time.Second, 12*time.Second, 13*time.Second),
		found("brute_force_user", "a", "user", "u1", 20*time.Second, 22*time.Second, 23*time.Second), // same incident again
		found("brute_force_user", "a", "user", "u9", 20*time.Second, 22*time.Second, 23*time.Second), // false alarm
		found("brute_force_ip", "a", "ip", "203.0.113.5", 10*time.Second, 20*time.Second, 21*time.Second),
		found("new_country", "a", "user", "u7", 10*time.Second, 20*time.Second, 21*time.Second),
	}
	got := Score(truth, fs, SourceDetector, DefaultTolerance)
	if len(got) != 4 {
		t.Fatalf("Score returned %d rows, want brute_force_user, silent_host, brute_force_ip, new_country: %+v", len(got), got)
	}
	bf := got[0]
	if bf.Kind != "brute_force_user" || bf.Injected != 2 || bf.Detected != 1 || bf.Findings != 3 || bf.Matched != 2 {
		t.Errorf("brute_force_user = %+v", bf)
	}
	if want := 2.0 / 3; bf.Precision != want || bf.Recall != 0.5 {
		t.Errorf("precision %v recall %v, want %v 0.5", bf.Precision, bf.Recall, want)
	}
	if len(bf.Delays) != 1 || bf.Delays[0] != 3*time.Second {
		t.Errorf("delays %v, want the first finding's 3s", bf.Delays)
	}
	if sh := got[1]; sh.Kind != "silent_host" || sh.Detected != 0 || sh.F1 != 0 || len(sh.Missed) != 1 {
		t.Errorf("silent_host = %+v", sh)
	}
	if ip := got[2]; ip.Kind != "brute_force_ip" || ip.IsInjected() || ip.Related != 1 || len(ip.False) != 0 {
		t.Errorf("brute_force_ip = %+v: the attacker's IP is related to the injected brute force", ip)
	}
	if nc := got[3]; nc.Kind != "new_country" || nc.Related != 0 || len(nc.False) != 1 {
		t.Errorf("new_country = %+v", nc)
	}
}

func TestIsolate(t *testing.T) {
	sc, err := sim.Parse([]byte(`duration: 1m
tenants: [{name: acme, users: 20, hosts: 2}, {name: globex, users: 5}]
anomalies:
  - {kind: brute_force_user, at: 1s, target: acme-user-0007}
  - {kind: silent_host, tenant: acme, at: 1s, target: acme-host-02}
  - {kind: mfa_fatigue, tenant: globex, at: 1s}`))
	if err != nil {
		t.Fatal(err)
	}
	got, names := Isolate(sc, "r1")
	if len(names) != 2 || names[0] != "acme-r1" || names[1] != "globex-r1" {
		t.Fatalf("tenants %v", names)
	}
	if a := got.Anomalies[0]; a.Tenant != "acme-r1" || a.Target != "acme-r1-user-0007" {
		t.Errorf("anomaly 0 = %+v", a)
	}
	if a := got.Anomalies[1]; a.Target != "acme-r1-host-02" {
		t.Errorf("anomaly 1 target %q", a.Target)
	}
	if a := got.Anomalies[2]; a.Tenant != "globex-r1" || a.Target != "" {
		t.Errorf("anomaly 2 = %+v", a)
	}
	if _, err := sim.New(got, 1); err != nil {
		t.Errorf("isolated scenario does not validate: %v", err)
	}
}
