package natsbus

import (
	"github.com/nats-io/nats.go/jetstream"
)

// pulled is the pull loop's view of a consumer: the next message (or a
// pull error that does not end it, logged and skipped), and a drain that
// ends it once what was pulled has come out. Next returns
// jetstream.ErrMsgIteratorClosed once it is over.
type pulled interface {
	Next() (jetstream.Msg, error)
	Drain()
}

// consumed is Consumer.Consume behind the iterator Messages would give.
//
// Messages bounded by bytes (PullMaxBytes) makes its buffer a channel of
// a million messages, allocated whole for each subscription: 8 MB each,
// most of the JetStream consumers' resident memory, and scanned by every
// garbage collection. Consume hands each message to a callback instead;
// the callback hands it on here through an unbuffered channel and, until
// it is taken, the pull stays counted as pending, so the bound in bytes
// holds as it did.
type consumed struct {
	cc     jetstream.ConsumeContext
	closed <-chan struct{}
	msgs   chan jetstream.Msg
	errs   chan error
}

func consume(cons jetstream.Consumer, opts ...jetstream.PullConsumeOpt) (*consumed, error) {
	c := &consumed{msgs: make(chan jetstream.Msg), errs: make(chan error, 16)}
	opts = append(opts, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		// Errors are for the log; one that ends the consumption also
		// closes it, which Next reports. Never block the client on them.
		select {
		case c.errs <- err:
		default:
		}
	}))
	cc, err := cons.Consume(func(m jetstream.Msg) { c.msgs <- m }, opts...)
	if err != nil {
		return nil, err
	}
	c.cc, c.closed = cc, cc.Closed()
	return c, nil
}

// Next blocks until a message, an error or the end. The client calls the
// callback, and so sends on msgs, only until Closed: a send in progress
// holds Closed back, so none is lost.
func (c *consumed) Next() (jetstream.Msg, error) {
	select {
	case m := <-c.msgs:
		return m, nil
	case err := <-c.errs:
		return nil, err
	case <-c.closed:
		return nil, jetstream.ErrMsgIteratorClosed
	}
}

// Drain stops pulling; what was pulled still comes out of Next.
func (c *consumed) Drain() { c.cc.Drain() }
