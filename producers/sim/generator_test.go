package sim

import (
	"crypto/sha256"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

type got struct {
	at  time.Time
	env schemas.Envelope
	p   schemas.Payload
}

func generate(t *testing.T, file string, seed uint64) (*Generator, []got) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	g, err := New(sc, seed)
	if err != nil {
		t.Fatal(err)
	}
	var out []got
	err = g.Events(func(at time.Time, env schemas.Envelope) error {
		p, err := env.DecodeData()
		if err != nil {
			return err
		}
		out = append(out, got{at, env, p})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return g, out
}

func digest(evs []got) string {
	h := sha256.New()
	for _, e := range evs {
		b, _ := schemas.MarshalStructured(e.env)
		h.Write(b)
	}
	return fmt.Sprintf("%x", h.Sum(nil))
}

func TestEventsAreDeterministicOrderedAndValid(t *testing.T) {
	g, a := generate(t, "testdata/every_kind.yaml", 42)
	_, b := generate(t, "testdata/every_kind.yaml", 42)
	_, c := generate(t, "testdata/every_kind.yaml", 43)
	if digest(a) != digest(b) {
		t.Fatal("same seed gave different events")
	}
	if digest(a) == digest(c) {
		t.Fatal("different seeds gave the same events")
	}
	ids := map[string]bool{}
	for i, e := range a {
		if i > 0 && e.at.Before(a[i-1].at) {
			t.Fatalf("event %d at %s before event %d at %s", i, e.at, i-1, a[i-1].at)
		}
		if e.at.Before(g.Start()) || !e.at.Before(g.End()) || !e.at.Equal(e.env.Time) {
			t.Fatalf("event %d at %s outside [%s, %s) or not its time %s", i, e.at, g.Start(), g.End(), e.env.Time)
		}
		if err := schemas.Validate(e.env, time.Time{}, schemas.DefaultLimits()); err != nil {
			t.Fatalf("event %d invalid: %v", i, err)
		}
		if ids[e.env.ID] {
			t.Fatalf("id %s repeated", e.env.ID)
		}
		ids[e.env.ID] = true
	}
	if rate := float64(len(a)) / 60; rate < 0.8*g.Scenario().ExpectedRate() {
		t.Errorf("%.0f events/s, expected about %.0f", rate, g.Scenario().ExpectedRate())
	}
}

func TestStopEndsEarly(t *testing.T) {
	sc, _ := Parse([]byte("duration: 10s\ntenants: [{name: a, users: 2, rates: {logins: 50}}]"))
	g, _ := New(sc, 1)
	n := 0
	err := g.Events(func(time.Time, schemas.Envelope) error {
		if n++; n == 5 {
			return ErrStop
		}
		return nil
	})
	if err != nil || n != 5 {
		t.Fatalf("Events() = %v after %d events, want nil after 5", err, n)
	}
}

// TestAnomaliesShowInTheEvents checks, per kind, that the injected
// behaviour is in the events where the truth says, and much rarer outside.
func TestAnomaliesShowInTheEvents(t *testing.T) {
	g, evs := generate(t, "testdata/every_kind.yaml", 7)
	truth := map[Kind]Truth{}
	for _, tr := range g.Truth() {
		truth[tr.Kind] = tr
	}
	in := func(tr Truth, at time.Time) bool { return !at.Before(tr.Start) && !at.After(tr.End) }
	hostOf := func(id string) string { h, _, _ := strings.Cut(id, "/"); return h }
	tests := []struct {
		kind Kind
		// match says whether an event is evidence of the anomaly.
		match   func(tr Truth, p schemas.Payload) bool
		minIn   int
		maxOut  int
		silence bool // evidence is the absence of events
	}{
		{BruteForceUser, func(tr Truth, p schemas.Payload) bool {
			f, ok := p.(schemas.LoginFailed)
			return ok && f.User == tr.Entity.ID && f.SourceIP == tr.Related[0].ID
		}, 90, 0, false},
		{CredentialStuffing, func(tr Truth, p schemas.Payload) bool {
			f, ok := p.(schemas.LoginFailed)
			return ok && f.SourceIP == tr.Entity.ID
		}, 180, 0, false},
		{ImpossibleTravel, func(tr Truth, p schemas.Payload) bool {
			s, ok := p.(schemas.LoginSucceeded)
			return ok && s.User == tr.Entity.ID && s.Geo.Country == tr.Details["to_country"]
		}, 1, 0, false},
		{MFAFatigue, func(tr Truth, p schemas.Payload) bool {
			d, ok := p.(schemas.MFADenied)
			return ok && d.User == tr.Entity.ID
		}, 15, 0, false},
		{TaskFailureSpike, func(tr Truth, p schemas.Payload) bool {
			f, ok := p.(schemas.TaskFailed)
			return ok && f.TaskType+"/"+f.Queue == tr.Entity.ID
		}, 50, 10, false},
		{TaskLatencyRegression, func(tr Truth, p schemas.Payload) bool {
			s, ok := p.(schemas.TaskSucceeded)
			return ok && s.TaskType+"/"+s.Queue == tr.Entity.ID && s.DurationMS > 500
		}, 30, 15, false}, // slow tasks started late in the window finish after it
		{MetricSpike, func(tr Truth, p schemas.Payload) bool {
			m, ok := p.(schemas.MetricSample)
			return ok && m.Host+"/"+m.Name == tr.Entity.ID && m.Value > 120
		}, 15, 0, false},
		{MetricDrop, func(tr Truth, p schemas.Payload) bool {
			m, ok := p.(schemas.MetricSample)
			return ok && m.Host+"/"+m.Name == tr.Entity.ID && m.Value < 10
		}, 15, 0, false},
		{ErrorLogBurst, func(tr Truth, p schemas.Payload) bool {
			l, ok := p.(schemas.LogRecord)
			return ok && l.Severity == schemas.SeverityError && l.Host+"/"+l.Service == tr.Entity.ID
		}, 250, 5, false},
		{SilentHost, func(tr Truth, p schemas.Payload) bool {
			h, ok := p.(schemas.Heartbeat)
			return ok && h.Host == tr.Entity.ID
		}, 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(string(tt.kind), func(t *testing.T) {
			tr, ok := truth[tt.kind]
			if !ok {
				t.Fatalf("no truth for %s", tt.kind)
			}
			var inN, outN int
			for _, e := range evs {
				if tt.match(tr, e.p) {
					if in(tr, e.at) {
						inN++
					} else {
						outN++
					}
				}
			}
			if tt.silence {
				if inN != 0 || outN < 20 {
					t.Fatalf("%s: %d heartbeats inside the window, %d outside; want none inside", hostOf(tr.Entity.ID), inN, outN)
				}
				return
			}
			if inN < tt.minIn || outN > tt.maxOut {
				t.Fatalf("%d matching events inside the window (want ≥ %d), %d outside (want ≤ %d)", inN, tt.minIn, outN, tt.maxOut)
			}
		})
	}
	t.Run(string(StuckTask), func(t *testing.T) {
		tr := truth[StuckTask]
		finished := map[string]bool{}
		started := map[string]bool{}
		for _, e := range evs {
			switch p := e.p.(type) {
			case schemas.TaskStarted:
				started[p.TaskID] = true
			case schemas.TaskSucceeded:
				finished[p.TaskID] = true
			case schemas.TaskFailed:
				finished[p.TaskID] = true
			}
		}
		for i := range 3 {
			id := tr.Details[fmt.Sprintf("task_id_%d", i)]
			if !started[id] || finished[id] {
				t.Errorf("stuck task %q: started %v, finished %v", id, started[id], finished[id])
			}
		}
	})
}
