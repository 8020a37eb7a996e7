package bus

import (
	"context"
	"testing"
)

func TestRecord(t *testing.T) {
	if DeliveryAttempt(t.Context()) != 0 || Terminate(t.Context()) {
		t.Fatal("a plain context must report no delivery and refuse Terminate")
	}
	if _, _, ok := Position(t.Context()); ok {
		t.Fatal("a plain context must report no position")
	}
	type other struct{}
	base, cancel := context.WithCancel(context.WithValue(t.Context(), other{}, "kept"))
	ctx := WithRecord(WithOrigin(base, "telemetry.metrics"), "telemetry.metrics-2", 4711, 3)
	// As a handler sees it: derived again by the router or the pipe.
	child, stop := context.WithCancel(ctx)
	defer stop()
	if got := DeliveryAttempt(child); got != 3 {
		t.Errorf("DeliveryAttempt = %d, want 3", got)
	}
	if key, seq, ok := Position(child); !ok || key != "telemetry.metrics-2" || seq != 4711 {
		t.Errorf("Position = %q %d %v, want telemetry.metrics-2 4711 true", key, seq, ok)
	}
	if o, ok := Origin(child); !ok || o != "telemetry.metrics" {
		t.Errorf("Origin = %q %v, want the base's", o, ok)
	}
	if child.Value(other{}) != "kept" {
		t.Error("values of the base must still be found")
	}
	if !Terminate(child) {
		t.Error("Terminate must find the delivery")
	}
	cancel()
	if child.Err() == nil {
		t.Error("cancelling the base must reach the record's derived contexts")
	}
}

type fakeHandout struct{ asked int }

func (h *fakeHandout) Attempt() int { h.asked++; return 4 }
func (h *fakeHandout) Position() (string, int64, bool) {
	h.asked++
	return "AUTH", 99, true
}

func TestHandout(t *testing.T) {
	h := &fakeHandout{}
	ctx := WithHandout(t.Context(), "auth.acme.login.failed", h)
	if h.asked != 0 {
		t.Fatal("a handout must be read only when asked")
	}
	child, stop := context.WithCancel(ctx)
	defer stop()
	if got := DeliveryAttempt(child); got != 4 {
		t.Errorf("DeliveryAttempt = %d, want 4", got)
	}
	if key, seq, ok := Position(child); !ok || key != "AUTH" || seq != 99 {
		t.Errorf("Position = %q %d %v, want AUTH 99 true", key, seq, ok)
	}
	if o, ok := Origin(child); !ok || o != "auth.acme.login.failed" {
		t.Errorf("Origin = %q %v", o, ok)
	}
	if Terminated(ctx) {
		t.Error("terminated before Terminate")
	}
	if !Terminate(child) || !Terminated(ctx) {
		t.Error("Terminate on a derived context must be seen by Terminated")
	}
}
