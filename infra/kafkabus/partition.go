package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
)

// partitionConsumer owns one partition for one generation.
type partitionConsumer struct {
	sub       *Subscriber
	gen       *generation
	topic     string
	partition int
	assigned  int64 // committed offset from the group, or <0 for none
	committed int64 // last offset we committed; guarded by gen.mu
	out       chan<- *message.Message
	subCtx    context.Context // Subscribe's ctx: its values reach message contexts
	logger    *slog.Logger

	mu sync.Mutex
	wm *watermark // nil until the start offset is known
}

// watermark returns the offset safe to commit, ok=false before the start
// offset is resolved.
func (pc *partitionConsumer) watermark() (int64, bool) {
	pc.mu.Lock()
	defer pc.mu.Unlock()
	if pc.wm == nil {
		return 0, false
	}
	return pc.wm.commitOffset(), true
}

// run consumes the partition until the generation ends, then drains and
// commits. Returning early (on an error) ends the generation for the whole
// member, which rejoins: the recovery path for a broken reader.
func (pc *partitionConsumer) run(genCtx context.Context) {
	cfg := pc.sub.cfg
	start := pc.assigned
	if start < 0 {
		var err error
		if start, err = pc.resolveStart(genCtx); err != nil {
			pc.fail(genCtx, "resolve start offset", err)
			return
		}
	}
	pc.mu.Lock()
	pc.wm = newWatermark(start)
	pc.mu.Unlock()

	// A fresh reader per generation: messages prefetched for an earlier
	// owner are never handed out (kafka-go issue 1398).
	reader := kafka.NewReader(kafka.ReaderConfig{
		Brokers:               cfg.Brokers,
		Topic:                 pc.topic,
		Partition:             pc.partition,
		Dialer:                pc.sub.dialer,
		MinBytes:              1,
		MaxBytes:              cfg.MaxBytes,
		MaxWait:               cfg.MaxWait,
		IsolationLevel:        kafka.ReadCommitted,
		OffsetOutOfRangeError: true,
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) {
			pc.logger.Warn(fmt.Sprintf(f, a...), "component", "kafka-reader")
		}),
	})
	defer reader.Close()
	if err := reader.SetOffset(start); err != nil {
		pc.fail(genCtx, "set reader offset", err)
		return
	}

	// Message contexts keep Subscribe's values but not its cancellation: a
	// draining handler keeps a live context until the partition is released.
	msgBase, release := context.WithCancel(context.WithoutCancel(pc.subCtx))
	defer release()
	// What every message of the partition shares, made once: its origin
	// (bus.WithOrigin) and its log's name for bus.WithPosition.
	msgBase = bus.WithOrigin(msgBase, pc.topic)
	logKey := pc.topic + "-" + strconv.Itoa(pc.partition)
	// One slot per delivered message still past the commit point (see
	// await), so a release redelivers at most MaxInFlightPerPartition.
	slots := make(chan struct{}, cfg.MaxInFlightPerPartition)
	// One waiter follows the partition's deliveries in offset order (see
	// await) instead of a goroutine per message: the watermark, and so the
	// slots, only move in that order anyway, and with thousands in flight
	// per partition a goroutine each was most of the memory. A send never
	// blocks: every queued delivery holds a slot. Pointers, because the
	// buffer is allocated whole for every partition of every topic.
	queue := make(chan *delivery, cfg.MaxInFlightPerPartition)
	var waiters sync.WaitGroup
	waiters.Go(func() {
		for d := range queue {
			pc.await(genCtx, msgBase, logKey, d.offset, d.msg, d.cancel, slots)
		}
	})
	var failStep string
	var failErr error
	delivered := false

	for {
		select {
		case slots <- struct{}{}:
		case <-genCtx.Done():
		}
		if genCtx.Err() != nil {
			break
		}
		rec, err := reader.FetchMessage(genCtx)
		if err != nil {
			<-slots
			if genCtx.Err() != nil {
				break
			}
			if errors.Is(err, kafka.OffsetOutOfRange) && !delivered {
				if _, err = pc.resetOutOfRange(genCtx, reader); err == nil {
					continue
				}
			}
			failStep, failErr = "fetch", err
			break
		}
		pc.mu.Lock()
		err = pc.wm.deliver(rec.Offset)
		pc.mu.Unlock()
		if err != nil {
			failStep, failErr = "track delivery", err
			break
		}
		delivered = true
		msg := fromRecord(rec)
		cancel := withRecord(msgBase, msg, logKey, rec.Offset, 1)
		if !pc.send(genCtx, msg) {
			// Never handed out: it stays un-acked in the watermark, so the
			// next owner reads it again.
			cancel()
			break
		}
		queue <- &delivery{offset: rec.Offset, msg: msg, cancel: cancel}
	}

	close(queue)
	pc.drain(&waiters, release)
	if err := pc.gen.commit(pc); err != nil {
		pc.logger.Warn("final kafka offset commit failed; un-committed messages will be redelivered", "err", err)
	}
	if failErr != nil {
		pc.fail(genCtx, failStep, failErr)
	}
}

// resetOutOfRange handles a committed offset that retention already
// deleted: restart at the earliest retained record, whatever StartFrom
// says — the records after the deleted ones were never read, and "latest"
// would skip them too. Only called before anything was delivered, so no
// in-flight state is lost.
func (pc *partitionConsumer) resetOutOfRange(ctx context.Context, reader *kafka.Reader) (int64, error) {
	start, err := pc.earliest(ctx)
	if err != nil {
		return 0, err
	}
	pc.logger.Warn("kafka committed offset out of range (deleted by retention); resetting to the earliest retained offset",
		"committed", pc.assigned, "offset", start)
	pc.mu.Lock()
	pc.wm = newWatermark(start)
	pc.mu.Unlock()
	return start, reader.SetOffset(start)
}

// delivery is a handed-out record waiting for its ack. It keeps the
// message, not the record: a redelivery is made from the message, and the
// record's headers (a string and a slice each) need not live as long.
type delivery struct {
	offset int64
	msg    *message.Message
	cancel context.CancelFunc
}

// await follows one record from hand-out to ack. Records are awaited in
// offset order, so a nack is seen (and the record handed out again) once
// every record before it was acked or nacked: a batching sink resolves
// them within an insert, and the watermark could not pass the nacked
// record earlier anyway. A nack hands the same
// record out again (after NackDelay) unless the partition is being
// released, in which case the next owner gets it from the watermark.
// Kafka keeps no delivery count, so it is counted here: per owner, from 1
// again after a rebalance or restart.
func (pc *partitionConsumer) await(genCtx, msgBase context.Context, logKey string, offset int64, msg *message.Message, cancel context.CancelFunc, slots <-chan struct{}) {
	for attempt := 1; ; {
		select {
		case <-msg.Acked():
			cancel()
			pc.mu.Lock()
			before := pc.wm.window()
			err := pc.wm.ack(offset)
			retired := before - pc.wm.window()
			pc.mu.Unlock()
			if err != nil {
				pc.logger.Error("kafka ack bookkeeping", "offset", offset, "err", err)
			}
			// A slot is freed when its message leaves the window, not when
			// it is acked: behind an un-acked message, acked ones would
			// still be redelivered on release.
			for range retired {
				<-slots
			}
			return
		case <-msg.Nacked():
			cancel()
			if genCtx.Err() != nil {
				return
			}
			if d := pc.sub.cfg.NackDelay; d > 0 {
				t := time.NewTimer(d)
				select {
				case <-t.C:
				case <-genCtx.Done():
					t.Stop()
					return
				}
			}
			attempt++
			// A nacked message cannot be acked again: a copy, same id,
			// payload and metadata, is the redelivery.
			msg = msg.Copy()
			cancel = withRecord(msgBase, msg, logKey, offset, attempt)
			if !pc.send(genCtx, msg) {
				cancel()
				return
			}
		case <-msgBase.Done():
			cancel()
			return
		}
	}
}

// drain waits up to DrainTimeout for in-flight messages, then cancels the
// contexts of those still out; acks arriving after that are ignored and the
// messages will be redelivered to the partition's next owner.
func (pc *partitionConsumer) drain(waiters *sync.WaitGroup, release context.CancelFunc) {
	done := make(chan struct{})
	go func() {
		waiters.Wait()
		close(done)
	}()
	t := time.NewTimer(pc.sub.cfg.DrainTimeout)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
		pc.mu.Lock()
		n := pc.wm.pending()
		pc.mu.Unlock()
		pc.logger.Warn("kafka partition released with un-acked messages; they will be redelivered", "pending", n)
	}
	release()
	<-done
}

func (pc *partitionConsumer) send(genCtx context.Context, msg *message.Message) bool {
	select {
	case pc.out <- msg:
		return true
	case <-genCtx.Done():
		return false
	}
}

// resolveStart turns "no committed offset" into the earliest retained
// offset. With StartFrom latest, Subscribe committed the end of every
// partition the topic had, so a partition reaching here was added later
// (or the pin lost a race with another member): its records were never
// read, and starting at its end would skip them. The periodic commit then
// persists the start, so the group's position is fixed before the first
// ack.
func (pc *partitionConsumer) resolveStart(ctx context.Context) (int64, error) {
	start, err := pc.earliest(ctx)
	if err != nil {
		return 0, err
	}
	pc.logger.Info("kafka group has no committed offset for the partition; starting at the earliest retained offset",
		"offset", start, "start_from", pc.sub.cfg.StartFrom)
	return start, nil
}

// earliest asks the partition's leader for its first retained offset.
func (pc *partitionConsumer) earliest(ctx context.Context) (int64, error) {
	resp, err := pc.sub.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{
		Topics:         map[string][]kafka.OffsetRequest{pc.topic: {kafka.FirstOffsetOf(pc.partition)}},
		IsolationLevel: kafka.ReadCommitted,
	})
	if err != nil {
		return 0, fmt.Errorf("list offsets of %s/%d: %w", pc.topic, pc.partition, err)
	}
	for _, p := range resp.Topics[pc.topic] {
		if p.Partition != pc.partition {
			continue
		}
		if p.Error != nil {
			return 0, fmt.Errorf("list offsets of %s/%d: %w", pc.topic, pc.partition, p.Error)
		}
		return p.FirstOffset, nil
	}
	return 0, fmt.Errorf("list offsets of %s/%d: partition missing from response", pc.topic, pc.partition)
}

// fail logs err and pauses briefly before returning, so a persistent error
// does not turn the rejoin that follows into a tight loop.
func (pc *partitionConsumer) fail(genCtx context.Context, what string, err error) {
	pc.logger.Error("kafka partition consumer stopped; the member will rejoin", "step", what, "err", err)
	t := time.NewTimer(time.Second)
	defer t.Stop()
	select {
	case <-t.C:
	case <-genCtx.Done():
	}
}

// withRecord gives msg its context: which delivery it is
// (bus.DeliveryAttempt) and where the record sits (bus.Position, logKey:
// topic-partition), from base, which carries the origin and is cancelled
// when the partition is released; cancel ends it on ack or nack, as
// Watermill's subscribers do. A Terminate needs nothing more than the ack:
// committing the offset ends the record's redelivery.
func withRecord(base context.Context, msg *message.Message, logKey string, offset int64, attempt int) context.CancelFunc {
	ctx, cancel := context.WithCancel(bus.WithRecord(base, logKey, offset, attempt))
	msg.SetContext(ctx)
	return cancel
}
