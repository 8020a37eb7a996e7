package clickhouse

import (
	"sync/atomic"
	"time"
)

// BatchStats is a point-in-time snapshot of a BatchWriter's counters.
type BatchStats struct {
	RowsWritten  uint64 // rows confirmed inserted
	RowsFailed   uint64 // rows whose Write got ErrPermanent
	RowsAborted  uint64 // rows whose Write got ErrClosed (writer closed or its ctx ended)
	Batches      uint64 // successful inserts
	Retries      uint64 // transient failures that were retried
	PendingRows  int64  // accepted by Write, not yet resolved
	FlushLast    time.Duration
	FlushAverage time.Duration
	FlushMax     time.Duration
}

// batchCounters are updated by the flusher and by Write without a lock;
// Stats may be read from any goroutine.
type batchCounters struct {
	rowsWritten, rowsFailed, rowsAborted atomic.Uint64
	batches, retries                     atomic.Uint64
	pending                              atomic.Int64
	flushLastNS, flushSumNS, flushMaxNS  atomic.Int64
}

func (c *batchCounters) flushed(rows int, took time.Duration) {
	c.rowsWritten.Add(uint64(rows))
	c.batches.Add(1)
	ns := int64(took)
	c.flushLastNS.Store(ns)
	c.flushSumNS.Add(ns)
	for {
		cur := c.flushMaxNS.Load()
		if ns <= cur || c.flushMaxNS.CompareAndSwap(cur, ns) {
			return
		}
	}
}

func (c *batchCounters) snapshot() BatchStats {
	s := BatchStats{
		RowsWritten: c.rowsWritten.Load(),
		RowsFailed:  c.rowsFailed.Load(),
		RowsAborted: c.rowsAborted.Load(),
		Batches:     c.batches.Load(),
		Retries:     c.retries.Load(),
		PendingRows: c.pending.Load(),
		FlushLast:   time.Duration(c.flushLastNS.Load()),
		FlushMax:    time.Duration(c.flushMaxNS.Load()),
	}
	if s.Batches > 0 {
		s.FlushAverage = time.Duration(c.flushSumNS.Load() / int64(s.Batches))
	}
	return s
}
