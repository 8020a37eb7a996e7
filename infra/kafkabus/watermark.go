package kafkabus

import (
	"fmt"
	"sort"
)

// watermark tracks the messages of one partition handed to the application
// and computes the offset that is safe to commit: every offset below it is
// acked (or was never a message: compaction and transaction markers leave
// gaps). It never moves past an un-acked message, so a crash or rebalance
// redelivers everything not yet acked and nothing is lost.
//
// Offsets must be delivered in increasing order (a partition is read
// sequentially); acks may come in any order. Not safe for concurrent use:
// the partition consumer guards it.
type watermark struct {
	next     int64 // commit point when nothing is in flight: last delivered + 1
	inflight []inflightOffset
	// head is where inflight starts: the acked prefix is dropped by moving
	// it, not by copying the rest down, which with thousands in flight and
	// acks in offset order (one waiter per partition) was a copy of the
	// whole window per ack. The dead prefix is reclaimed by deliver.
	head int
}

type inflightOffset struct {
	offset int64
	acked  bool
}

// newWatermark starts at start, the first offset that may be delivered (the
// committed offset, or the resolved earliest/latest).
func newWatermark(start int64) *watermark {
	return &watermark{next: start}
}

// deliver records that offset was handed out.
func (w *watermark) deliver(offset int64) error {
	if offset < w.next {
		return fmt.Errorf("offset %d delivered out of order: expected at least %d", offset, w.next)
	}
	if w.head > 0 && w.head >= len(w.inflight)/2 {
		// Compact once the dead prefix is at least half: amortised O(1).
		w.inflight = append(w.inflight[:0], w.inflight[w.head:]...)
		w.head = 0
	}
	w.inflight = append(w.inflight, inflightOffset{offset: offset})
	w.next = offset + 1
	return nil
}

// live is the delivered messages at or past the commit point.
func (w *watermark) live() []inflightOffset { return w.inflight[w.head:] }

// ack records that offset was processed. Acking an offset that is not in
// flight (never delivered, or already acked) is an error.
func (w *watermark) ack(offset int64) error {
	live := w.live()
	i := sort.Search(len(live), func(i int) bool { return live[i].offset >= offset })
	if i == len(live) || live[i].offset != offset {
		return fmt.Errorf("ack of offset %d that is not in flight", offset)
	}
	if live[i].acked {
		return fmt.Errorf("offset %d acked twice", offset)
	}
	live[i].acked = true
	// Drop the acked prefix; the head is then the oldest un-acked message.
	for w.head < len(w.inflight) && w.inflight[w.head].acked {
		w.head++
	}
	if w.head == len(w.inflight) {
		w.inflight, w.head = w.inflight[:0], 0
	}
	return nil
}

// commitOffset is the offset to commit: the oldest un-acked offset, or one
// past the last delivered when all are acked. (Kafka commits name the next
// offset to read.)
func (w *watermark) commitOffset() int64 {
	if live := w.live(); len(live) > 0 {
		return live[0].offset
	}
	return w.next
}

// window is the number of delivered messages at or past the commit point,
// acked or not: what a release now would redeliver.
func (w *watermark) window() int {
	return len(w.inflight) - w.head
}

// pending is the number of delivered, un-acked messages.
func (w *watermark) pending() int {
	n := 0
	for _, o := range w.live() {
		if !o.acked {
			n++
		}
	}
	return n
}
