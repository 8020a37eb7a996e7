package kafkabus

import (
	"context"
	"fmt"

	"github.com/segmentio/kafka-go"
)

// GroupLag returns, per partition of topic, how many records group has not
// committed yet: the high watermark minus the committed offset (or the
// log start, for a group that has committed nothing).
func GroupLag(ctx context.Context, c *kafka.Client, group, topic string) (map[int]int64, error) {
	meta, err := c.Metadata(ctx, &kafka.MetadataRequest{Topics: []string{topic}})
	if err != nil {
		return nil, fmt.Errorf("lag of %s on %s: %w", group, topic, err)
	}
	var parts []int
	var reqs []kafka.OffsetRequest
	for _, t := range meta.Topics {
		if t.Error != nil {
			return nil, fmt.Errorf("lag of %s on %s: %w", group, topic, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
			reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
	}
	offs, err := c.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{topic: reqs}})
	if err != nil {
		return nil, fmt.Errorf("lag of %s on %s: %w", group, topic, err)
	}
	committed, err := c.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{topic: parts}})
	if err != nil {
		return nil, fmt.Errorf("lag of %s on %s: %w", group, topic, err)
	}
	if committed.Error != nil {
		return nil, fmt.Errorf("lag of %s on %s: %w", group, topic, committed.Error)
	}
	done := map[int]int64{}
	for _, p := range committed.Topics[topic] {
		done[p.Partition] = p.CommittedOffset
	}
	out := map[int]int64{}
	for _, p := range offs.Topics[topic] {
		if p.Error != nil {
			return nil, fmt.Errorf("lag of %s on %s/%d: %w", group, topic, p.Partition, p.Error)
		}
		out[p.Partition] = max(p.LastOffset-max(done[p.Partition], p.FirstOffset), 0)
	}
	return out, nil
}
