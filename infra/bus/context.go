package bus

import (
	"context"

	"github.com/ThreeDotsLabs/watermill/message"
)

// MessagesContext returns a context derived from parent that is done as
// soon as any of msgs' own contexts is: Watermill's Publisher has no ctx
// argument and asks publishers to honour each message's Context() instead.
// Messages whose context is the default (never done) add nothing. Call
// the returned cancel when the publish is over.
func MessagesContext(parent context.Context, msgs []*message.Message) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancelCause(parent)
	var stops []func() bool
	for _, m := range msgs {
		mc := m.Context()
		if mc.Done() == nil {
			continue
		}
		if mc.Err() != nil {
			cancel(context.Cause(mc))
			break
		}
		stops = append(stops, context.AfterFunc(mc, func() { cancel(context.Cause(mc)) }))
	}
	return ctx, func() {
		for _, stop := range stops {
			stop()
		}
		cancel(context.Canceled)
	}
}
