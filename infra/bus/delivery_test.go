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
