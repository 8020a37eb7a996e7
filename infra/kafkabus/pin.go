package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/segmentio/kafka-go"
)

// pinLatest fixes where a group that never consumed topic starts, before
// it joins: when no partition has a committed offset, each gets its
// current end committed for the group. Without it "latest" was resolved per
// partition only once the group had joined — on a fresh broker after
// kafka-go's first join backoff of seconds — so everything published
// between Subscribe returning and that moment was skipped (a service
// reported ready while its start positions were still open).
//
// The commit is a standalone one (no generation), which Kafka accepts only
// while the group has no active members; when it has, they fixed the
// positions already, and pinLatest leaves them.
func (s *Subscriber) pinLatest(ctx context.Context, topic string) error {
	// A fresh broker answers group requests with "not coordinator" until
	// its offsets topic is loaded: wait that out, within a bound.
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	wait := 100 * time.Millisecond
	for {
		err := s.pinLatestOnce(ctx, topic)
		var kerr kafka.Error
		if err == nil || !errors.As(err, &kerr) || !kerr.Temporary() {
			return err
		}
		s.logger.Info("kafka group coordinator not ready, retrying", "topic", topic, "err", err)
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%w)", err, ctx.Err())
		case <-time.After(wait):
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (s *Subscriber) pinLatestOnce(ctx context.Context, topic string) error {
	meta, err := s.client.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return fmt.Errorf("metadata of %s: %w", topic, err)
	}
	var parts []int
	for _, t := range meta.Topics {
		if t.Error != nil {
			return fmt.Errorf("metadata of %s: %w", topic, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	committed, err := s.client.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: s.cfg.GroupID, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return fmt.Errorf("committed offsets of %s on %s: %w", s.cfg.GroupID, topic, err)
	}
	if committed.Error != nil {
		return fmt.Errorf("committed offsets of %s on %s: %w", s.cfg.GroupID, topic, committed.Error)
	}
	open := map[int]bool{}
	for _, p := range parts {
		open[p] = true
	}
	for _, p := range committed.Topics[topic] {
		if p.CommittedOffset >= 0 {
			delete(open, p.Partition)
		}
	}
	if len(open) < len(parts) {
		// The group has consumed the topic: a partition without a commit
		// was added since, and its records were never read. It starts at
		// the earliest (resolveStart), not at its end.
		return nil
	}
	var reqs []kafka.OffsetRequest
	for p := range open {
		reqs = append(reqs, kafka.LastOffsetOf(p))
	}
	ends, err := s.client.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs},
		IsolationLevel: kafka.ReadCommitted})
	if err != nil {
		return fmt.Errorf("end offsets of %s: %w", topic, err)
	}
	var commits []kafka.OffsetCommit
	ats := map[int]int64{}
	for _, p := range ends.Topics[topic] {
		if p.Error != nil {
			return fmt.Errorf("end offset of %s/%d: %w", topic, p.Partition, p.Error)
		}
		commits = append(commits, kafka.OffsetCommit{Partition: p.Partition, Offset: p.LastOffset})
		ats[p.Partition] = p.LastOffset
	}
	resp, err := s.client.OffsetCommit(ctx, &kafka.OffsetCommitRequest{GroupID: s.cfg.GroupID, GenerationID: -1,
		Topics: map[string][]kafka.OffsetCommit{topic: commits}})
	if err != nil {
		return fmt.Errorf("pin %s on %s at its end: %w", s.cfg.GroupID, topic, err)
	}
	for _, p := range resp.Topics[topic] {
		var kerr kafka.Error
		if errors.As(p.Error, &kerr) && kerr.Temporary() {
			return fmt.Errorf("pin %s on %s at its end: %w", s.cfg.GroupID, topic, p.Error)
		}
		if p.Error != nil {
			// The group is active: its members own the positions.
			s.logger.Info("kafka start not pinned: the group is active", "topic", topic, "partition", p.Partition, "err", p.Error)
			return nil
		}
	}
	// Records before these offsets are skipped for good: say which.
	s.logger.Info("kafka group had no committed offset; starting at the end (StartFrom latest)", "topic", topic, "offsets", ats)
	return nil
}
