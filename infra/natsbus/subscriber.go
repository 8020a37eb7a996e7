package natsbus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
)

// Subscriber consumes subjects through durable pull consumers; see the
// package doc for the delivery contract. Subscribe and Close are safe for
// concurrent use. The NATS connection belongs to the caller.
type Subscriber struct {
	js     jetstream.JetStream
	cfg    SubscriberConfig
	logger *slog.Logger

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	subs    sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber validates cfg; it does no I/O.
func NewSubscriber(js jetstream.JetStream, cfg SubscriberConfig) (*Subscriber, error) {
	cfg = DefaultSubscriberConfig(cfg)
	var errs []error
	if js == nil {
		errs = append(errs, errors.New("js: required"))
	}
	errs = append(errs, cfg.Validate())
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("jetstream subscriber config: %w", err)
	}
	return &Subscriber{js: js, cfg: cfg, logger: cfg.Logger.With("durable", cfg.Durable), closing: make(chan struct{})}, nil
}

// Subscribe creates (or joins) the group's durable consumer for
// subjectFilter and returns its messages. The channel is closed when ctx
// is done or Close is called, after in-flight messages were drained.
func (s *Subscriber) Subscribe(ctx context.Context, subjectFilter string) (<-chan *message.Message, error) {
	if subjectFilter == "" {
		return nil, errors.New("jetstream subscribe: empty subject")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	stream := s.cfg.Stream
	if stream == "" {
		var err error
		if stream, err = s.js.StreamNameBySubject(ctx, subjectFilter); err != nil {
			return nil, fmt.Errorf("jetstream subscribe %s: find stream: %w", subjectFilter, err)
		}
	}
	deliver := jetstream.DeliverAllPolicy
	if s.cfg.StartFrom == StartLatest {
		deliver = jetstream.DeliverNewPolicy
	}
	name := consumerName(s.cfg.Durable, subjectFilter)
	// Every instance sends the same config, so CreateOrUpdate is idempotent
	// and the instances share the one consumer.
	cons, err := s.js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
		Durable:       name,
		FilterSubject: subjectFilter,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.cfg.AckWait,
		MaxDeliver:    s.cfg.MaxDeliver,
		MaxAckPending: s.cfg.MaxAckPending,
		DeliverPolicy: deliver,
	})
	if err != nil {
		return nil, fmt.Errorf("jetstream subscribe %s: consumer %s on stream %s: %w", subjectFilter, name, stream, err)
	}
	var pull jetstream.PullConsumeOpt = jetstream.PullMaxMessages(s.cfg.FetchBatch)
	if n := s.cfg.PullMaxBytes; n >= 0 {
		// The client asks for at most what is left of n after what it
		// holds, so a message larger than half of n could stall the pull.
		mp := int(s.js.Conn().MaxPayload())
		if n == 0 {
			n = 2 * mp
		}
		if n < 2*mp {
			return nil, fmt.Errorf("jetstream subscribe %s: PullMaxBytes %d is below twice the server's max payload (%d)", subjectFilter, n, mp)
		}
		pull = jetstream.PullMaxBytes(n)
	}
	iter, err := consume(cons, pull)
	if err != nil {
		return nil, fmt.Errorf("jetstream subscribe %s: pull: %w", subjectFilter, err)
	}
	out := make(chan *message.Message)
	c := &consumption{
		sub:    s,
		iter:   iter,
		out:    out,
		stream: stream,
		logger: s.logger.With("subject", subjectFilter, "consumer", name),
	}
	s.subs.Add(1)
	go c.run(ctx)
	return out, nil
}

// Close stops every subscription, drains in-flight messages (up to
// DrainTimeout) and closes the output channels; it waits for all of that.
// Safe to call more than once.
func (s *Subscriber) Close() error {
	s.mu.Lock()
	if !s.closed {
		s.closed = true
		close(s.closing)
	}
	s.mu.Unlock()
	s.subs.Wait()
	return nil
}

// consumption is one Subscribe call's pull loop.
//
// A handed-out message waits for its Watermill ack or nack in one of a
// few waiter queues (see waitLanes), not in a goroutine of its own. The
// calls to the server are made elsewhere: acks and naks go through one
// acker goroutine (they are fire-and-forget publishes, so one goroutine
// keeps up), and a single keep-alive loop tells the server every
// AckWait/2 that all messages still in flight are in progress, instead of
// one ticker per message.
type consumption struct {
	sub    *Subscriber
	iter   pulled
	out    chan *message.Message
	stream string
	logger *slog.Logger

	acks chan ackRequest

	mu       sync.Mutex
	inflight map[jetstream.Msg]struct{} // handed out, not yet acked or nacked
}

// ackRequest is one ack (nak false) or nak for the acker.
type ackRequest struct {
	m     jetstream.Msg
	nak   bool
	term  bool // ack as Term: the handler stored the message elsewhere
	delay time.Duration
	id    string
}

func (c *consumption) run(ctx context.Context) {
	defer c.sub.subs.Done()
	defer close(c.out)
	stopCtx, stop := context.WithCancel(ctx)
	defer stop()
	go func() {
		select {
		case <-c.sub.closing:
		case <-stopCtx.Done():
		}
		stop()
		// Drain, not Stop: buffered messages still come out of Next so
		// they can be nacked for immediate redelivery elsewhere.
		c.iter.Drain()
	}()
	c.acks = make(chan ackRequest, 1024)
	c.inflight = map[jetstream.Msg]struct{}{}
	ackerDone := make(chan struct{})
	go func() {
		defer close(ackerDone)
		c.acker()
	}()
	keepAliveCtx, stopKeepAlive := context.WithCancel(context.Background())
	keepAliveDone := make(chan struct{})
	go func() {
		defer close(keepAliveDone)
		c.keepAlive(keepAliveCtx)
	}()

	// Message contexts keep Subscribe's values but outlive its
	// cancellation until the drain is over.
	msgBase, release := context.WithCancel(context.WithoutCancel(ctx))
	defer release()
	// A few waiters follow the hand-outs, each its share (round robin) in
	// order, instead of a goroutine per message: creating and scheduling
	// them was a tenth of the ingest's JetStream CPU. A message acked
	// before the one its waiter is on has its ack sent a little later;
	// the keep-alive covers it meanwhile. The server hands out at most
	// MaxAckPending un-acked messages, so the queues hardly ever fill; if
	// one does, pulling waits for it.
	var waiters sync.WaitGroup
	lanes := make([]chan handedOut, waitLanes)
	for i := range lanes {
		lanes[i] = make(chan handedOut, c.sub.cfg.MaxAckPending/waitLanes+16)
		waiters.Go(func() {
			for h := range lanes[i] {
				c.await(msgBase, h)
			}
		})
	}
	lane := 0
	for {
		m, err := c.iter.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				break
			}
			// Missed heartbeats, reconnects: the iterator keeps pulling.
			c.logger.Warn("jetstream pull", "err", err)
			continue
		}
		if stopCtx.Err() != nil {
			c.acks <- ackRequest{m: m, nak: true}
			continue
		}
		msg, hctx, cancel := c.newDelivery(msgBase, m)
		c.mu.Lock()
		c.inflight[m] = struct{}{}
		c.mu.Unlock()
		select {
		case c.out <- msg:
		case <-stopCtx.Done():
			cancel()
			c.done(m)
			c.acks <- ackRequest{m: m, nak: true, id: msg.UUID}
			continue
		}
		lanes[lane] <- handedOut{m: m, msg: msg, hctx: hctx, cancel: cancel}
		lane = (lane + 1) % len(lanes)
	}
	for _, l := range lanes {
		close(l)
	}

	done := make(chan struct{})
	go func() {
		waiters.Wait()
		close(done)
	}()
	t := time.NewTimer(c.sub.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		c.logger.Warn("jetstream subscription closed with un-acked messages; nacking them")
	}
	release()
	<-done
	stopKeepAlive()
	<-keepAliveDone
	close(c.acks) // every await has returned: nobody sends any more
	<-ackerDone
}

// waitLanes is how many waiters follow a subscription's hand-outs.
const waitLanes = 8

// handedOut is a message handed out and waiting for its ack or nack.
type handedOut struct {
	m      jetstream.Msg
	msg    *message.Message
	hctx   context.Context // what newDelivery made, for bus.Terminated
	cancel context.CancelFunc
}

// await waits for the ack or nack of one message and hands the answer to
// the acker. The keep-alive loop covers AckWait meanwhile.
func (c *consumption) await(msgBase context.Context, h handedOut) {
	defer h.cancel()
	m, msg := h.m, h.msg
	var req ackRequest
	select {
	case <-msg.Acked():
		req = ackRequest{m: m, id: msg.UUID, term: bus.Terminated(h.hctx)}
	case <-msg.Nacked():
		delivered := uint64(1)
		if md, err := m.Metadata(); err == nil {
			delivered = md.NumDelivered
		}
		req = ackRequest{m: m, nak: true, delay: c.sub.cfg.nakDelay(delivered), id: msg.UUID}
	case <-msgBase.Done():
		// Drain timed out: hand the message back now rather than after AckWait.
		req = ackRequest{m: m, nak: true, id: msg.UUID}
	}
	c.done(m)
	c.acks <- req
}

func (c *consumption) done(m jetstream.Msg) {
	c.mu.Lock()
	delete(c.inflight, m)
	c.mu.Unlock()
}

// acker sends acks and naks until c.acks is closed.
func (c *consumption) acker() {
	for req := range c.acks {
		if req.term {
			// Term, not Ack: the server stops redelivering it whatever
			// MaxDeliver says and emits a MSG_TERMINATED advisory, so
			// operators see that it left the stream by the terminal path.
			if err := req.m.TermWithReason("stored in dead_letters directly"); err != nil {
				c.logger.Warn("jetstream term failed; the message will be redelivered", "id", req.id, "err", err)
			}
			continue
		}
		if !req.nak {
			if err := req.m.Ack(); err != nil {
				c.logger.Warn("jetstream ack failed; the message will be redelivered", "id", req.id, "err", err)
			}
			continue
		}
		c.nak(req.m, req.delay)
	}
}

// keepAlive tells the server every AckWait/2 that the messages in flight
// are in progress, so AckWait does not expire under a slow handler. A
// message handed out just after a tick is covered by the next one, still
// within AckWait.
func (c *consumption) keepAlive(ctx context.Context) {
	tick := time.NewTicker(c.sub.cfg.AckWait / 2)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		c.mu.Lock()
		msgs := make([]jetstream.Msg, 0, len(c.inflight))
		for m := range c.inflight {
			msgs = append(msgs, m)
		}
		c.mu.Unlock()
		for _, m := range msgs {
			if err := m.InProgress(); err != nil {
				c.logger.Warn("jetstream in-progress signal failed", "err", err)
			}
		}
	}
}

func (c *consumption) nak(m jetstream.Msg, delay time.Duration) {
	var err error
	if delay > 0 {
		err = m.NakWithDelay(delay)
	} else {
		err = m.Nak()
	}
	if err != nil {
		c.logger.Warn("jetstream nak failed; the message returns after AckWait", "err", err)
	}
}

// newDelivery builds the Watermill message for m. Its context says which
// delivery this is (the server's count, so it survives restarts and
// instances), where it sits (stream sequence) and where it arrived, read
// from m only when a handler asks, and lets the handler ask for a Term
// instead of an Ack (bus.Terminated on hctx).
func (c *consumption) newDelivery(base context.Context, m jetstream.Msg) (msg *message.Message, hctx context.Context, cancel context.CancelFunc) {
	h := m.Headers()
	var seq uint64
	// The stream sequence only names a message without an id header;
	// parsing the reply subject for it costs on every message otherwise.
	if h.Get(bus.HeaderEventID) == "" && h.Get(nats.MsgIdHdr) == "" {
		if md, err := m.Metadata(); err == nil {
			seq = md.Sequence.Stream
		}
	}
	msg = fromNATS(h, m.Data(), c.stream, seq)
	hctx = bus.WithHandout(base, m.Subject(), &handout{m: m, stream: c.stream})
	ctx, cancel := context.WithCancel(hctx)
	msg.SetContext(ctx)
	return msg, hctx, cancel
}

// handout reads a delivery's attempt and position from its reply subject.
type handout struct {
	m      jetstream.Msg
	stream string
}

func (h *handout) Attempt() int {
	md, err := h.m.Metadata()
	if err != nil {
		return 0
	}
	return int(md.NumDelivered)
}

func (h *handout) Position() (string, int64, bool) {
	md, err := h.m.Metadata()
	if err != nil {
		return "", 0, false
	}
	return h.stream, int64(md.Sequence.Stream), true
}
