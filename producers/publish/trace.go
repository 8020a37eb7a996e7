package publish

import (
	"context"
	"fmt"
	"math/rand/v2"
)

type traceParentKey struct{}

// ContextWithTraceParent returns a ctx whose events get tp as their W3C
// traceparent, so a service handling a traced request publishes events in
// that trace. An event's own TraceParent still wins.
func ContextWithTraceParent(ctx context.Context, tp string) context.Context {
	return context.WithValue(ctx, traceParentKey{}, tp)
}

// TraceParentFromContext returns what ContextWithTraceParent stored, or "".
func TraceParentFromContext(ctx context.Context) string {
	tp, _ := ctx.Value(traceParentKey{}).(string)
	return tp
}

// NewTraceParent starts a new sampled trace: version 00, a random trace id
// and parent id, flags 01. The ids need to be unique, not secret, so the
// runtime's (ChaCha8, goroutine-safe) generator is enough.
func NewTraceParent() string {
	hi, lo := nonZero(), rand.Uint64()
	return fmt.Sprintf("00-%016x%016x-%016x-01", hi, lo, nonZero())
}

// nonZero keeps ids away from the all-zero value W3C reserves as invalid.
func nonZero() uint64 {
	for {
		if v := rand.Uint64(); v != 0 {
			return v
		}
	}
}

// traceParent picks the event's traceparent: its own, else the context's,
// else a new trace. A malformed one given by the caller is kept, so
// validation rejects the event naming the field instead of silently
// replacing the caller's trace.
func traceParent(ctx context.Context, own string) string {
	if own != "" {
		return own
	}
	if tp := TraceParentFromContext(ctx); tp != "" {
		return tp
	}
	return NewTraceParent()
}
