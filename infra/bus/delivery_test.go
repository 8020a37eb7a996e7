package bus

import (
	"context"
	"testing"
)

func TestDelivery(t *testing.T) {
	if DeliveryAttempt(t.Context()) != 0 || Terminate(t.Context()) {
		t.Fatal("a plain context must report no delivery and refuse Terminate")
	}
	calls := 0
	ctx, terminated := WithDelivery(t.Context(), func() int { calls++; return 3 })
	if calls != 0 {
		t.Fatal("attempt must be read lazily")
	}
	// A handler's derived context (Watermill wraps it) still carries it.
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	if got := DeliveryAttempt(child); got != 3 {
		t.Fatalf("DeliveryAttempt = %d, want 3", got)
	}
	if terminated() {
		t.Fatal("terminated before Terminate")
	}
	if !Terminate(child) || !terminated() {
		t.Fatal("Terminate on a derived context must reach the subscriber")
	}
}

func TestRecord(t *testing.T) {
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
