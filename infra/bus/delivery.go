package bus

import (
	"context"
	"errors"
	"sync/atomic"
)

// ErrRefused marks a publish refused for the message itself — too large for
// the client's or the broker's limit — so publishing the same message again
// can never succeed. Each adapter wraps such errors with it; any other
// publish error may be transient (a broker down, a leader election).
var ErrRefused = errors.New("message refused by the broker")

type deliveryKey struct{}

// delivery is what a subscriber tells its handlers about one hand-out of a
// message, and what they may tell it back.
type delivery struct {
	attempt  func() int // nil: n is the attempt
	n        int
	terminal atomic.Bool
}

// WithDelivery returns a message context derived from ctx that says which
// delivery of its message this is (attempt is called only when a handler
// asks, since reading it can cost a parse) and lets a handler ask for the
// message to be terminated. terminated reports whether one did; the
// subscriber reads it after the ack.
func WithDelivery(ctx context.Context, attempt func() int) (_ context.Context, terminated func() bool) {
	d := &delivery{attempt: attempt}
	return context.WithValue(ctx, deliveryKey{}, d), d.terminal.Load
}

// DeliveryAttempt returns which delivery of its message ctx belongs to:
// 1 for the first, 0 when the transport did not say.
func DeliveryAttempt(ctx context.Context) int {
	d, ok := ctx.Value(deliveryKey{}).(*delivery)
	switch {
	case !ok:
		return 0
	case d.attempt == nil:
		return d.n
	}
	return d.attempt()
}

// Terminate asks the transport to end the message's redelivery for good
// once it is acked: the handler has stored it elsewhere. On JetStream the
// ack becomes a Term, which the server reports as an advisory; Kafka has
// no such notion and commits as usual. It returns false when ctx is not a
// message context of our transports.
func Terminate(ctx context.Context) bool {
	d, ok := ctx.Value(deliveryKey{}).(*delivery)
	if ok {
		d.terminal.Store(true)
	}
	return ok
}

type positionKey struct{}

// WithPosition returns a message context that says where the message sits
// in its transport: key names the ordered log (a Kafka topic partition, a
// JetStream stream) and seq is the message's place in it (offset, stream
// sequence). pos is called only when a handler asks, since reading it can
// cost a parse. Writers use it to cut batches a replay rebuilds the same.
func WithPosition(ctx context.Context, pos func() (key string, seq int64, ok bool)) context.Context {
	return context.WithValue(ctx, positionKey{}, pos)
}

// Position returns what WithPosition or WithRecord put in ctx; ok is
// false when the transport did not say.
func Position(ctx context.Context) (key string, seq int64, ok bool) {
	switch pos := ctx.Value(positionKey{}).(type) {
	case func() (string, int64, bool):
		return pos()
	case *position:
		return pos.key, pos.seq, true
	}
	return "", 0, false
}

type position struct {
	key string
	seq int64
}

// WithRecord is WithDelivery and WithPosition at once, for a transport that
// knows the attempt and the position when it hands a message out (Kafka):
// one value per message instead of a context and a closure for each, which
// showed in ingest profiles at tens of thousands of messages a second.
// Terminate is accepted and has no effect there: the transport has no
// such notion (see Terminate).
func WithRecord(ctx context.Context, key string, seq int64, attempt int) context.Context {
	return &recordCtx{Context: ctx, d: delivery{n: attempt}, pos: position{key: key, seq: seq}}
}

type recordCtx struct {
	context.Context
	d   delivery
	pos position
}

func (c *recordCtx) Value(key any) any {
	switch key.(type) {
	case deliveryKey:
		return &c.d
	case positionKey:
		return &c.pos
	}
	return c.Context.Value(key)
}

type originKey struct{}

// WithOrigin returns a message context that names where the message
// arrived: its NATS subject, or its Kafka topic. A handler can then check
// the event against it (the tenant in a subject).
func WithOrigin(ctx context.Context, origin string) context.Context {
	return context.WithValue(ctx, originKey{}, origin)
}

// Origin returns what WithOrigin put in ctx.
func Origin(ctx context.Context) (string, bool) {
	o, ok := ctx.Value(originKey{}).(string)
	return o, ok
}
