package publish

import (
	"context"
	"testing"

	"github.com/tributary-io/tributary/schemas"
)

func TestTraceParentStamping(t *testing.T) {
	const given = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	const fromCtx = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	tests := []struct {
		name string
		own  string
		ctx  string
		want string // "" means: a new valid one
	}{
		{name: "kept when given", own: given, ctx: fromCtx, want: given},
		{name: "taken from the context", ctx: fromCtx, want: fromCtx},
		{name: "created when absent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			js := &scripted{}
			c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{schemas.TransportJetStream: js})
			ctx := context.Background()
			if tt.ctx != "" {
				ctx = ContextWithTraceParent(ctx, tt.ctx)
			}
			env := loginEvent(t)
			env.TraceParent = tt.own
			got, err := c.Publish(ctx, env)
			if err != nil {
				t.Fatal(err) // Publish validates: a bad traceparent fails here
			}
			if tt.want != "" && got.TraceParent != tt.want {
				t.Fatalf("traceparent %q, want %q", got.TraceParent, tt.want)
			}
			if tt.want == "" && (got.TraceParent == given || got.TraceParent == fromCtx) {
				t.Fatalf("traceparent %q reused, want a new one", got.TraceParent)
			}
		})
	}
}

func TestInvalidTraceParentIsRefused(t *testing.T) {
	c, _ := testClient(t, RetryConfig{}, map[schemas.Transport]Transport{schemas.TransportJetStream: &scripted{}})
	env := loginEvent(t)
	env.TraceParent = "00-00000000000000000000000000000000-00f067aa0ba902b7-01"
	if _, err := c.Publish(context.Background(), env); !contains(err, `"traceparent"`) {
		t.Fatalf("Publish() = %v, want an error naming traceparent", err)
	}
}

func TestNewTraceParentIsUnique(t *testing.T) {
	seen := map[string]bool{}
	for range 1000 {
		tp := NewTraceParent()
		if seen[tp] || len(tp) != 55 {
			t.Fatalf("traceparent %q repeated or malformed", tp)
		}
		seen[tp] = true
	}
}
