package bus

import (
	"context"
	"testing"
)

type fakeHandout struct{ asked int }

func (h *fakeHandout) Attempt() int { h.asked++; return 4 }
func (h *fakeHandout) Position() (string, int64, bool) {
	h.asked++
	return "AUTH", 99, true
}

func TestMessageContexts(t *testing.T) {
	if DeliveryAttempt(t.Context()) != 0 || Terminate(t.Context()) {
		t.Fatal("a plain context must report no delivery and refuse Terminate")
	}
	if _, _, ok := Position(t.Context()); ok {
		t.Fatal("a plain context must report no position")
	}
	type other struct{}
	lazy := &fakeHandout{}
	tests := []struct {
		name    string
		make    func(base context.Context) context.Context
		attempt int
		key     string
		seq     int64
		origin  string
	}{
		{"kafka record", func(base context.Context) context.Context {
			return WithRecord(WithOrigin(base, "telemetry.metrics"), "telemetry.metrics-2", 4711, 3)
		}, 3, "telemetry.metrics-2", 4711, "telemetry.metrics"},
		{"jetstream handout", func(base context.Context) context.Context {
			return WithHandout(base, "auth.acme.login.failed", lazy)
		}, 4, "AUTH", 99, "auth.acme.login.failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			base, cancel := context.WithCancel(context.WithValue(t.Context(), other{}, "kept"))
			ctx := tt.make(base)
			if lazy.asked != 0 {
				t.Fatal("a handout must be read only when asked")
			}
			// As a handler sees it: derived again by the router or the pipe.
			child, stop := context.WithCancel(ctx)
			defer stop()
			if got := DeliveryAttempt(child); got != tt.attempt {
				t.Errorf("DeliveryAttempt = %d, want %d", got, tt.attempt)
			}
			if key, seq, ok := Position(child); !ok || key != tt.key || seq != tt.seq {
				t.Errorf("Position = %q %d %v, want %q %d true", key, seq, ok, tt.key, tt.seq)
			}
			if o, ok := Origin(child); !ok || o != tt.origin {
				t.Errorf("Origin = %q %v, want %q", o, ok, tt.origin)
			}
			if child.Value(other{}) != "kept" {
				t.Error("values of the base must still be found")
			}
			if Terminated(ctx) {
				t.Error("terminated before Terminate")
			}
			if !Terminate(child) || !Terminated(ctx) {
				t.Error("Terminate on a derived context must be seen by Terminated")
			}
			cancel()
			if child.Err() == nil {
				t.Error("cancelling the base must reach the message's derived contexts")
			}
		})
	}
}
