package kafkabus

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/segmentio/kafka-go"
)

// ErrTooFewPartitions is reported by EnsureTopics for an existing topic with
// fewer partitions than its TopicSpec asks for, unless WithAddPartitions
// was given. Adding partitions moves keys to other partitions (per-key
// order breaks across the change), so it is never done silently.
var ErrTooFewPartitions = errors.New("topic has fewer partitions than specified")

// TopicSpec describes a topic EnsureTopics provisions.
type TopicSpec struct {
	Name              string
	Partitions        int // at least 1
	ReplicationFactor int // at least 1; not changed on existing topics
	// MinInsyncReplicas is the topic's min.insync.replicas (0: the
	// broker's default), set when the topic is created.
	MinInsyncReplicas int
	// Retention is the topic's retention.ms and RetentionBytes its
	// retention.bytes (per partition), set when the topic is created
	// (existing topics keep theirs); 0: the broker's default, -1:
	// unlimited.
	Retention      time.Duration
	RetentionBytes int64
}

// configEntries are the topic-level settings of s.
func (s TopicSpec) configEntries() []kafka.ConfigEntry {
	var out []kafka.ConfigEntry
	switch {
	case s.Retention == -1:
		out = append(out, kafka.ConfigEntry{ConfigName: "retention.ms", ConfigValue: "-1"})
	case s.Retention > 0:
		out = append(out, kafka.ConfigEntry{ConfigName: "retention.ms", ConfigValue: strconv.FormatInt(s.Retention.Milliseconds(), 10)})
	}
	if s.MinInsyncReplicas > 0 {
		out = append(out, kafka.ConfigEntry{ConfigName: "min.insync.replicas", ConfigValue: strconv.Itoa(s.MinInsyncReplicas)})
	}
	if s.RetentionBytes != 0 {
		out = append(out, kafka.ConfigEntry{ConfigName: "retention.bytes", ConfigValue: strconv.FormatInt(s.RetentionBytes, 10)})
	}
	return out
}

// AdminOption tunes EnsureTopics.
type AdminOption func(*adminOptions)

type adminOptions struct {
	security      SecurityConfig
	addPartitions bool
}

// WithSecurity sets TLS/SASL for the admin connection.
func WithSecurity(s SecurityConfig) AdminOption {
	return func(o *adminOptions) { o.security = s }
}

// WithAddPartitions lets EnsureTopics grow existing topics to the
// specified partition count instead of reporting ErrTooFewPartitions.
func WithAddPartitions() AdminOption {
	return func(o *adminOptions) { o.addPartitions = true }
}

// EnsureTopics creates the topics that are missing and checks the others;
// running it again is a no-op. It returns once every partition of every
// topic has a leader, so a publish right after it does not race topic
// creation. All problems are reported together.
func EnsureTopics(ctx context.Context, brokers []string, specs []TopicSpec, opts ...AdminOption) error {
	var o adminOptions
	for _, opt := range opts {
		opt(&o)
	}
	var errs []error
	errs = append(errs, validateBrokers(brokers), o.security.validate())
	names := make([]string, 0, len(specs))
	for i, s := range specs {
		if s.Name == "" {
			errs = append(errs, fmt.Errorf("specs[%d].Name: required", i))
		}
		if s.Partitions < 1 {
			errs = append(errs, fmt.Errorf("specs[%d].Partitions: must be at least 1, got %d", i, s.Partitions))
		}
		if s.ReplicationFactor < 1 {
			errs = append(errs, fmt.Errorf("specs[%d].ReplicationFactor: must be at least 1, got %d", i, s.ReplicationFactor))
		}
		if s.MinInsyncReplicas < 0 || s.MinInsyncReplicas > s.ReplicationFactor {
			errs = append(errs, fmt.Errorf("specs[%d].MinInsyncReplicas: must be between 0 (broker default) and the replication factor %d, got %d", i, s.ReplicationFactor, s.MinInsyncReplicas))
		}
		if s.Retention < -1 || (s.Retention > 0 && s.Retention < time.Millisecond) {
			errs = append(errs, fmt.Errorf("specs[%d].Retention: must be -1 (unlimited), 0 (broker default) or at least 1ms, got %s", i, s.Retention))
		}
		if s.RetentionBytes < -1 {
			errs = append(errs, fmt.Errorf("specs[%d].RetentionBytes: must be -1 (unlimited), 0 (broker default) or positive, got %d", i, s.RetentionBytes))
		}
		names = append(names, s.Name)
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	transport, err := o.security.transport(0)
	if err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	client := &kafka.Client{Addr: kafka.TCP(brokers...), Transport: transport, Timeout: 30 * time.Second}

	existing, err := partitionCounts(ctx, client, names)
	if err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	var create []kafka.TopicConfig
	var grow []kafka.TopicPartitionsConfig
	for _, s := range specs {
		have, ok := existing[s.Name]
		switch {
		case !ok:
			create = append(create, kafka.TopicConfig{Topic: s.Name, NumPartitions: s.Partitions, ReplicationFactor: s.ReplicationFactor,
				ConfigEntries: s.configEntries()})
		case have < s.Partitions && o.addPartitions:
			grow = append(grow, kafka.TopicPartitionsConfig{Name: s.Name, Count: int32(s.Partitions)})
		case have < s.Partitions:
			errs = append(errs, fmt.Errorf("topic %s: %w: has %d, want %d", s.Name, ErrTooFewPartitions, have, s.Partitions))
		}
	}
	if len(create) > 0 {
		resp, err := client.CreateTopics(ctx, &kafka.CreateTopicsRequest{Topics: create})
		if err != nil {
			return fmt.Errorf("ensure topics: create: %w", err)
		}
		for name, err := range resp.Errors {
			// Someone else created it between our metadata read and now.
			if err != nil && !errors.Is(err, kafka.TopicAlreadyExists) {
				errs = append(errs, fmt.Errorf("create topic %s: %w", name, err))
			}
		}
	}
	if len(grow) > 0 {
		resp, err := client.CreatePartitions(ctx, &kafka.CreatePartitionsRequest{Topics: grow})
		if err != nil {
			return fmt.Errorf("ensure topics: add partitions: %w", err)
		}
		for name, err := range resp.Errors {
			if err != nil {
				errs = append(errs, fmt.Errorf("add partitions to topic %s: %w", name, err))
			}
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("ensure topics: %w", err)
	}
	if len(create) > 0 || len(grow) > 0 {
		if err := waitForLeaders(ctx, client, specs); err != nil {
			return fmt.Errorf("ensure topics: %w", err)
		}
	}
	return nil
}

// partitionCounts returns the partition count of each existing topic.
func partitionCounts(ctx context.Context, client *kafka.Client, names []string) (map[string]int, error) {
	resp, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
	if err != nil {
		return nil, fmt.Errorf("metadata: %w", err)
	}
	counts := make(map[string]int, len(resp.Topics))
	for _, t := range resp.Topics {
		switch {
		case t.Error == nil:
			counts[t.Name] = len(t.Partitions)
		case errors.Is(t.Error, kafka.UnknownTopicOrPartition):
		default:
			return nil, fmt.Errorf("metadata of topic %s: %w", t.Name, t.Error)
		}
	}
	return counts, nil
}

// waitForLeaders polls metadata until every specified partition has a
// leader, or ctx ends.
func waitForLeaders(ctx context.Context, client *kafka.Client, specs []TopicSpec) error {
	names := make([]string, len(specs))
	for i, s := range specs {
		names[i] = s.Name
	}
	for {
		resp, err := client.Metadata(ctx, &kafka.MetadataRequest{Topics: names})
		if err == nil && allLed(resp, specs) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for partition leaders: %w (last metadata error: %v)", ctx.Err(), err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func allLed(resp *kafka.MetadataResponse, specs []TopicSpec) bool {
	led := map[string]int{}
	for _, t := range resp.Topics {
		if t.Error != nil {
			return false
		}
		for _, p := range t.Partitions {
			if p.Error == nil && p.Leader.Host != "" {
				led[t.Name]++
			}
		}
	}
	for _, s := range specs {
		if led[s.Name] < s.Partitions {
			return false
		}
	}
	return true
}
