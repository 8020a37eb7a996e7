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
	h        Handout // nil: n is the attempt
	n        int
	terminal atomic.Bool
}

// DeliveryAttempt returns which delivery of its message ctx belongs to:
// 1 for the first, 0 when the transport did not say.
func DeliveryAttempt(ctx context.Context) int {
	d, ok := ctx.Value(deliveryKey{}).(*delivery)
	switch {
	case !ok:
		return 0
	case d.h != nil:
		return d.h.Attempt()
	}
	return d.n
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

// Position returns where ctx's message sits in its transport: key names
// the ordered log (a Kafka topic partition, a JetStream stream) and seq is
// its place in it (offset, stream sequence); ok is false when the
// transport did not say. Writers use it to cut batches a replay rebuilds
// the same.
func Position(ctx context.Context) (key string, seq int64, ok bool) {
	switch pos := ctx.Value(positionKey{}).(type) {
	case *position:
		return pos.key, pos.seq, true
	case Handout:
		return pos.Position()
	}
	return "", 0, false
}

type position struct {
	key string
	seq int64
}

// WithRecord returns a message context derived from ctx that says which
// delivery of its message this is (DeliveryAttempt), where it sits
// (Position), and lets a handler ask for it to be terminated (Terminate),
// for a transport that knows all of it at hand-out (Kafka). One value per
// message, not a context and a closure for each: they showed in ingest
// profiles at tens of thousands of messages a second.
// Terminate is accepted and has no effect there: the transport has no
// such notion (see Terminate).
func WithRecord(ctx context.Context, key string, seq int64, attempt int) context.Context {
	return &handoutCtx{Context: ctx, d: delivery{n: attempt}, pos: position{key: key, seq: seq}}
}

// Handout is what a transport can tell of one hand-out of a message, read
// only when a handler asks: on JetStream both come from parsing the reply
// subject.
type Handout interface {
	Attempt() int
	Position() (key string, seq int64, ok bool)
}

// WithHandout is WithRecord and WithOrigin at once for a transport that
// reads the attempt and position lazily (JetStream).
// Whether a handler called Terminate is read with Terminated.
func WithHandout(ctx context.Context, origin string, h Handout) context.Context {
	return &handoutCtx{Context: ctx, d: delivery{h: h}, origin: origin, hasOrigin: true}
}

// Terminated reports whether a handler called Terminate on ctx or a
// context derived from it.
func Terminated(ctx context.Context) bool {
	d, ok := ctx.Value(deliveryKey{}).(*delivery)
	return ok && d.terminal.Load()
}

type handoutCtx struct {
	context.Context
	d         delivery
	pos       position // unless d.h tells it
	origin    string
	hasOrigin bool
}

func (c *handoutCtx) Value(key any) any {
	switch key.(type) {
	case deliveryKey:
		return &c.d
	case positionKey:
		if c.d.h != nil {
			return c.d.h
		}
		return &c.pos
	case originKey:
		if c.hasOrigin {
			return c.origin
		}
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
