package publish

import (
	"context"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/schemas"
)

// destKey is one broker call's target.
type destKey struct {
	transport schemas.Transport
	topic     string
}

// part is one event's message to one destination.
type part struct {
	it  *pending
	msg *message.Message
}

// send publishes a batch with one broker call per destination, then
// resolves every event in it. An event with two destinations (anomalies go
// to both transports) is in two groups; it succeeds only if both do.
func (a *Async) send(batch []*pending) {
	groups := map[destKey][]part{}
	var order []destKey // map order is random; keep the batch's order
	for _, it := range batch {
		for i, d := range it.dests {
			k := destKey{d.Transport, d.Name()}
			if _, ok := groups[k]; !ok {
				order = append(order, k)
			}
			groups[k] = append(groups[k], part{it, it.msgs[i]})
		}
	}
	for _, k := range order {
		a.sendGroup(k, groups[k])
	}
	for _, it := range batch {
		if it.err == nil {
			a.c.metrics.latency.Observe(a.c.now().Sub(it.accepted))
		}
		r := Result{Event: it.env, Err: a.c.finish(it.err)}
		it.future.res = r
		close(it.future.done)
		if a.cfg.OnResult != nil {
			a.cfg.OnResult(r)
		}
		a.track(-1)
	}
}

func (a *Async) sendGroup(k destKey, parts []part) {
	msgs := make([]*message.Message, len(parts))
	for i, p := range parts {
		msgs[i] = p.msg
	}
	// Accepted events are published whatever happens to the caller's ctx;
	// the retry budget bounds the call.
	err := a.c.deliver(context.Background(), k.transport, k.topic, msgs)
	if err != nil && len(parts) > 1 && permanent(err) != nil {
		// A permanent error on a batch may belong to one message (a record
		// the broker finds too large): send one by one so only the guilty
		// event fails. Re-sending the others is safe (see deliver).
		for _, p := range parts {
			a.record(k, p, a.c.deliver(context.Background(), k.transport, k.topic, []*message.Message{p.msg}))
		}
		return
	}
	for _, p := range parts {
		a.record(k, p, err)
	}
}

func (a *Async) record(k destKey, p part, err error) {
	tm := a.c.metrics.transport(k.transport)
	if err != nil {
		tm.failed.Add(1)
		if p.it.err == nil {
			p.it.err = fmt.Errorf("publish %s %s to %s %s: %w", p.it.env.Type, p.it.env.ID, k.transport, k.topic, err)
		}
		return
	}
	tm.published.Add(1)
}
