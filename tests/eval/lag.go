package eval

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/poll"
)

// caughtUpLag is the backlog, in messages over all of a group's inputs,
// that counts as caught up: other people's producers keep publishing on
// shared servers, so zero may never be seen, and a few thousand messages
// are well under a second of detector work.
const caughtUpLag = 2000

// detectorTopics are the Kafka inputs of the telemetry detector; its
// groups are named "<group>-telemetry-<topic with dots as underscores>"
// (processors/service).
var detectorTopics = []string{"telemetry.metrics", "telemetry.logs", "telemetry.heartbeats"}

// waitCaughtUp polls the detector group's JetStream durables and Kafka
// consumer groups until their total backlog is below caughtUpLag.
func waitCaughtUp(ctx context.Context, srv Servers, group string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	nc, err := nats.Connect(srv.NATSURL, nats.Name("tributary-eval-lag"))
	if err != nil {
		return fmt.Errorf("eval: lag: connect nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("eval: lag: %w", err)
	}
	kc := &kafka.Client{Addr: kafka.TCP(srv.KafkaBrokers...), Timeout: 10 * time.Second}
	err = poll.Until(ctx, time.Second, func(ctx context.Context) (bool, error) {
		jsLag, jsErr := jetStreamLag(ctx, js, group+"-")
		kLag, kErr := kafkaLag(ctx, kc, group+"-telemetry-")
		if jsErr != nil || kErr != nil {
			return false, fmt.Errorf("lag unknown (jetstream: %v, kafka: %v)", jsErr, kErr)
		}
		if lag := jsLag + kLag; lag > caughtUpLag {
			return false, fmt.Errorf("still %d messages behind (jetstream %d, kafka %d)", lag, jsLag, kLag)
		}
		return true, nil
	})
	if err != nil {
		return fmt.Errorf("eval: detectors not caught up within %s: %w", limit, err)
	}
	return nil
}

// jetStreamLag sums pending and unacked messages of every durable whose
// name starts with prefix.
func jetStreamLag(ctx context.Context, js jetstream.JetStream, prefix string) (int64, error) {
	var lag int64
	found := 0
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return 0, err
		}
		infos := s.ListConsumers(ctx)
		for ci := range infos.Info() {
			if strings.HasPrefix(ci.Name, prefix) {
				found++
				lag += int64(ci.NumPending) + int64(ci.NumAckPending)
			}
		}
		if err := infos.Err(); err != nil {
			return 0, err
		}
	}
	if err := names.Err(); err != nil {
		return 0, err
	}
	if found == 0 {
		return 0, fmt.Errorf("no durable named %s*", prefix)
	}
	return lag, nil
}

// kafkaLag sums, over the detector's topics and partitions, the high
// watermark minus the group's committed offset (or the log start when the
// group has not committed yet).
func kafkaLag(ctx context.Context, kc *kafka.Client, prefix string) (int64, error) {
	meta, err := kc.Metadata(ctx, &kafka.MetadataRequest{Topics: detectorTopics})
	if err != nil {
		return 0, err
	}
	var lag int64
	for _, t := range meta.Topics {
		if t.Error != nil {
			return 0, fmt.Errorf("topic %s: %w", t.Name, t.Error)
		}
		var parts []int
		var reqs []kafka.OffsetRequest
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
			reqs = append(reqs, kafka.FirstOffsetOf(p.ID), kafka.LastOffsetOf(p.ID))
		}
		offs, err := kc.ListOffsets(ctx, &kafka.ListOffsetsRequest{Topics: map[string][]kafka.OffsetRequest{t.Name: reqs}})
		if err != nil {
			return 0, err
		}
		group := prefix + strings.ReplaceAll(t.Name, ".", "_")
		committed, err := kc.OffsetFetch(ctx, &kafka.OffsetFetchRequest{GroupID: group, Topics: map[string][]int{t.Name: parts}})
		if err != nil {
			return 0, err
		}
		if committed.Error != nil {
			return 0, fmt.Errorf("group %s: %w", group, committed.Error)
		}
		done := map[int]int64{}
		for _, p := range committed.Topics[t.Name] {
			done[p.Partition] = p.CommittedOffset
		}
		for _, p := range offs.Topics[t.Name] {
			if p.Error != nil {
				return 0, fmt.Errorf("offsets of %s/%d: %w", t.Name, p.Partition, p.Error)
			}
			from := max(done[p.Partition], p.FirstOffset)
			lag += max(p.LastOffset-from, 0)
		}
	}
	return lag, nil
}
