package bus

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

func TestMessagesContext(t *testing.T) {
	plain := message.NewMessage("a", nil)
	ctx, cancel := MessagesContext(context.Background(), []*message.Message{plain})
	if ctx.Err() != nil {
		t.Fatal("done before any message context was")
	}
	cancel()

	// A message whose context ends ends the publish, with its cause.
	mctx, mcancel := context.WithCancelCause(context.Background())
	withCtx := message.NewMessage("b", nil)
	withCtx.SetContext(mctx)
	ctx, cancel = MessagesContext(context.Background(), []*message.Message{plain, withCtx})
	defer cancel()
	boom := errors.New("handler gave up")
	mcancel(boom)
	select {
	case <-ctx.Done():
	case <-time.After(time.Second):
		t.Fatal("publish context not done after a message's context was")
	}
	if !errors.Is(context.Cause(ctx), boom) {
		t.Errorf("cause %v, want %v", context.Cause(ctx), boom)
	}

	// Already done: done at once. The parent's deadline still applies.
	ctx, cancel = MessagesContext(context.Background(), []*message.Message{withCtx})
	if ctx.Err() == nil {
		t.Error("not done though a message's context already was")
	}
	cancel()
	parent, pcancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer pcancel()
	ctx, cancel = MessagesContext(parent, []*message.Message{plain})
	defer cancel()
	<-ctx.Done()
}
