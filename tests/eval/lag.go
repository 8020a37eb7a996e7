package eval

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/kafkabus"
	"github.com/tributary-io/tributary/infra/poll"
	"github.com/tributary-io/tributary/schemas"
)

// caughtUpLag is the backlog, in messages over all of a group's inputs,
// that counts as caught up: other people's producers keep publishing on
// shared servers, so zero may never be seen, and a few thousand messages
// are well under a second of detector work.
const caughtUpLag = 2000

// detectorGroups are the Kafka consumer groups of the detector service
// and the topics they read, by the names it gives them
// ("<group>-<family>-<topic with dots as underscores>"), from the
// families' declarations and routes.
func detectorGroups(group string) (map[string]string, error) {
	out := map[string]string{}
	routes := schemas.DefaultRoutingTable()
	for _, f := range schemas.Declared() {
		if f.Detector == "" {
			continue
		}
		srcs, err := routes.Sources(f.Types)
		if err != nil {
			return nil, err
		}
		for _, s := range srcs {
			if s.Transport == schemas.TransportKafka {
				out[group+"-"+string(f.Family)+"-"+strings.ReplaceAll(s.Filter, ".", "_")] = s.Filter
			}
		}
	}
	return out, nil
}

// waitCaughtUp polls the detector group's JetStream durables and Kafka
// consumer groups until their total backlog is below caughtUpLag.
func waitCaughtUp(ctx context.Context, srv Servers, group string, limit time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	nc, err := srv.natsConnect("tributary-eval-lag")
	if err != nil {
		return fmt.Errorf("eval: lag: connect nats: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return fmt.Errorf("eval: lag: %w", err)
	}
	kc, err := srv.KafkaSecurity.Client(srv.KafkaBrokers, 10*time.Second)
	if err != nil {
		return fmt.Errorf("eval: lag: %w", err)
	}
	err = poll.Until(ctx, time.Second, func(ctx context.Context) (bool, error) {
		jsLag, jsErr := jetStreamLag(ctx, js, group+"-")
		kLag, kErr := kafkaLag(ctx, kc, group)
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

// kafkaLag sums the detector groups' lag over their topics' partitions.
func kafkaLag(ctx context.Context, kc *kafka.Client, group string) (int64, error) {
	groups, err := detectorGroups(group)
	if err != nil {
		return 0, err
	}
	var lag int64
	for g, topic := range groups {
		parts, err := kafkabus.GroupLag(ctx, kc, g, topic)
		if err != nil {
			return 0, err
		}
		for _, n := range parts {
			lag += n
		}
	}
	return lag, nil
}
