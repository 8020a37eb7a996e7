package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"
)

// Subscriber consumes topics as a member of a Kafka consumer group.
//
// Each Subscribe call joins the group (cfg.GroupID) for one topic. For every
// generation (the assignment between two rebalances) each assigned
// partition gets its own goroutine and its own fresh reader, started at the
// committed offset: nothing read ahead in an earlier generation survives a
// rebalance (kafka-go issue 1398). Messages of one partition are handed out
// in offset order, at most MaxInFlightPerPartition from the oldest un-acked
// one on; partitions run concurrently into the one output channel.
//
// Ack marks a message done; the committed offset is the partition's
// contiguous acked watermark and never passes an un-acked message. Nack
// hands the same record out again after NackDelay (a new *message.Message,
// same UUID), once every record before it in the partition was acked or
// nacked: one goroutine per partition follows acks in offset order. A message's context is cancelled once it is acked or nacked,
// or when its partition is released.
//
// When a partition is released (rebalance, Close, ctx done) the subscriber
// stops handing out messages, waits up to DrainTimeout for the in-flight
// ones, commits the watermark and only then lets the group move on.
// Delivery is at-least-once: the duplicate window is the messages from the
// oldest un-acked one on at release or crash time, acked or not — at most
// MaxInFlightPerPartition per partition, plus, after a crash, those acked
// since the last periodic commit (CommitInterval).
//
// Subscribe and Close are safe for concurrent use.
type Subscriber struct {
	cfg    SubscriberConfig
	logger *slog.Logger
	dialer *kafka.Dialer
	client *kafka.Client

	mu      sync.Mutex
	closed  bool
	closing chan struct{}
	subs    sync.WaitGroup
}

var _ message.Subscriber = (*Subscriber)(nil)

// NewSubscriber validates cfg and builds a subscriber. It does no I/O.
func NewSubscriber(cfg SubscriberConfig) (*Subscriber, error) {
	cfg = DefaultSubscriberConfig(cfg)
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("kafka subscriber config: %w", err)
	}
	dialer, err := cfg.Security.dialer()
	if err != nil {
		return nil, fmt.Errorf("kafka subscriber: %w", err)
	}
	transport, err := cfg.Security.transport(0)
	if err != nil {
		return nil, fmt.Errorf("kafka subscriber: %w", err)
	}
	return &Subscriber{
		cfg:     cfg,
		logger:  cfg.Logger.With("group", cfg.GroupID),
		dialer:  dialer,
		client:  &kafka.Client{Addr: kafka.TCP(cfg.Brokers...), Transport: transport, Timeout: 10 * time.Second},
		closing: make(chan struct{}),
	}, nil
}

// Subscribe joins the consumer group for topic and returns the channel of
// its messages. Every start position is fixed when it returns, so a
// service may report ready then: with StartFrom latest, a group that never
// consumed has the topic's end committed before Subscribe returns; any
// other partition without a commit starts at its earliest retained record
// whenever the group joins, which cannot skip what is published after
// Subscribe returns. The channel is closed once ctx is done or Close is
// called, after in-flight messages were drained and offsets committed.
func (s *Subscriber) Subscribe(ctx context.Context, topic string) (<-chan *message.Message, error) {
	if topic == "" {
		return nil, errors.New("kafka subscribe: empty topic")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, ErrClosed
	}
	if s.cfg.StartFrom == StartLatest {
		// Fixed before Subscribe returns, so "latest" means latest as of
		// the subscription, not as of the group's first join.
		if err := s.pinLatest(ctx, topic); err != nil {
			return nil, fmt.Errorf("kafka subscribe to %s as %s: %w", topic, s.cfg.GroupID, err)
		}
	}
	cg, err := kafka.NewConsumerGroup(kafka.ConsumerGroupConfig{
		ID:                s.cfg.GroupID,
		Brokers:           s.cfg.Brokers,
		Dialer:            s.dialer,
		Topics:            []string{topic},
		HeartbeatInterval: s.cfg.HeartbeatInterval,
		SessionTimeout:    s.cfg.SessionTimeout,
		RebalanceTimeout:  s.cfg.RebalanceTimeout,
		JoinGroupBackoff:  s.cfg.JoinBackoff,
		// Partitions added to the topic are otherwise left unread until
		// some other rebalance; watched, they join within seconds and
		// start at their earliest record (resolveStart).
		WatchPartitionChanges:  true,
		PartitionWatchInterval: s.cfg.PartitionWatchInterval,
		// Partitions with no commit are resolved by the partition consumer
		// (see resolveStart, always the earliest); this value only fills
		// the sentinel.
		StartOffset: kafka.FirstOffset,
		ErrorLogger: kafka.LoggerFunc(func(f string, a ...any) {
			s.logger.Warn(fmt.Sprintf(f, a...), "topic", topic, "component", "kafka-consumer-group")
		}),
	})
	if err != nil {
		return nil, fmt.Errorf("kafka subscribe to %s as %s: %w", topic, s.cfg.GroupID, err)
	}
	out := make(chan *message.Message)
	s.subs.Add(1)
	go s.consume(ctx, cg, topic, out)
	return out, nil
}

// consume runs generations until ctx is done or the subscriber closes.
func (s *Subscriber) consume(ctx context.Context, cg *kafka.ConsumerGroup, topic string, out chan *message.Message) {
	defer s.subs.Done()
	defer close(out)
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-runCtx.Done():
		}
	}()

	logger := s.logger.With("topic", topic)
	for {
		gen, err := cg.Next(runCtx)
		if err != nil {
			if runCtx.Err() != nil || errors.Is(err, kafka.ErrGroupClosed) {
				break
			}
			// kafka-go backs off and retries joining by itself; Next only
			// reports the failure.
			logger.Warn("kafka consumer group generation failed", "err", err)
			continue
		}
		s.runGeneration(ctx, gen, topic, out, logger)
	}
	// Close ends the current generation and waits for its partition
	// goroutines (drain + final commit) before leaving the group; only then
	// is it safe to close out.
	if err := cg.Close(); err != nil {
		logger.Warn("close kafka consumer group", "err", err)
	}
}

// runGeneration starts one goroutine per assigned partition and the
// periodic committer, all bound to the generation: kafka-go ends the
// generation when any of them returns and waits for all of them before it
// rejoins, which is what lets the final commits land in the old generation.
func (s *Subscriber) runGeneration(subCtx context.Context, gen *kafka.Generation, topic string, out chan<- *message.Message, logger *slog.Logger) {
	g := &generation{gen: gen, topic: topic, logger: logger.With("generation", gen.ID)}
	for _, a := range gen.Assignments[topic] {
		pc := &partitionConsumer{
			sub:       s,
			gen:       g,
			topic:     topic,
			partition: a.ID,
			assigned:  a.Offset,
			committed: max(a.Offset, -1), // a.Offset < 0: nothing committed yet
			out:       out,
			subCtx:    subCtx,
			logger:    g.logger.With("partition", a.ID),
		}
		g.partitions = append(g.partitions, pc)
	}
	g.logger.Info("kafka partitions assigned", "partitions", len(g.partitions))
	for _, pc := range g.partitions {
		gen.Start(pc.run)
	}
	gen.Start(func(ctx context.Context) {
		t := time.NewTicker(s.cfg.CommitInterval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := g.commit(g.partitions...); err != nil {
					g.logger.Warn("periodic kafka offset commit failed", "err", err)
				}
			}
		}
	})
}

// generation serialises offset commits of one generation, so a periodic
// commit that read an older watermark can never land after a newer final one.
type generation struct {
	gen        *kafka.Generation
	topic      string
	logger     *slog.Logger
	partitions []*partitionConsumer

	mu sync.Mutex
}

// commit commits the watermark of each given partition that moved.
func (g *generation) commit(pcs ...*partitionConsumer) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	offsets := map[int]int64{}
	for _, pc := range pcs {
		if wm, ok := pc.watermark(); ok && wm > pc.committed {
			offsets[pc.partition] = wm
		}
	}
	if len(offsets) == 0 {
		return nil
	}
	if err := g.gen.CommitOffsets(map[string]map[int]int64{g.topic: offsets}); err != nil {
		return fmt.Errorf("commit offsets %v of %s: %w", offsets, g.topic, err)
	}
	for _, pc := range pcs {
		if wm, ok := offsets[pc.partition]; ok {
			pc.committed = wm
		}
	}
	return nil
}

// Close stops every subscription: partitions are drained (up to
// DrainTimeout), offsets committed, the group left and the output channels
// closed. It waits for all of that. Safe to call more than once.
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
