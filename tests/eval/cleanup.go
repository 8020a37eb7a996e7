package eval

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/kafka-go"

	chinfra "github.com/tributary-io/tributary/infra/clickhouse"
	detect "github.com/tributary-io/tributary/processors/service"
)

// Cleanup removes what a run left on the shared servers: its JetStream
// durables, Kafka consumer groups and detector checkpoints (all named after
// group), and the database when dropDB (the demo keeps its rows for the
// analyst). The events stay in the streams, like every producer's.
func Cleanup(ctx context.Context, srv Servers, group, database string, dropDB bool) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	var errs []error
	if nc, err := srv.natsConnect("tributary-eval-cleanup"); err != nil {
		errs = append(errs, err)
	} else {
		defer nc.Close()
		if js, err := jetstream.New(nc); err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, deleteDurables(ctx, js, group+"-"), deleteCheckpoints(ctx, js, group+"-detect."))
		}
	}
	if kc, err := srv.KafkaSecurity.Client(srv.KafkaBrokers, 10*time.Second); err != nil {
		errs = append(errs, err)
	} else if groups, err := kc.ListGroups(ctx, &kafka.ListGroupsRequest{}); err != nil {
		errs = append(errs, err)
	} else {
		var ids []string
		for _, g := range groups.Groups {
			if strings.HasPrefix(g.GroupID, group+"-") {
				ids = append(ids, g.GroupID)
			}
		}
		if len(ids) > 0 {
			if _, err := kc.DeleteGroups(ctx, &kafka.DeleteGroupsRequest{GroupIDs: ids}); err != nil {
				errs = append(errs, fmt.Errorf("delete kafka groups: %w", err))
			}
		}
	}
	if dropDB {
		chcfg, err := srv.ClickHouseConfig("system")
		var db driver.Conn
		if err == nil {
			db, err = chinfra.Open(ctx, chcfg, nil)
		}
		if err != nil {
			errs = append(errs, err)
		} else {
			errs = append(errs, db.Exec(ctx, "DROP DATABASE IF EXISTS `"+database+"`"))
			db.Close()
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("eval: cleanup: %w", err)
	}
	return nil
}

func deleteDurables(ctx context.Context, js jetstream.JetStream, prefix string) error {
	var errs []error
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		cs := s.ConsumerNames(ctx)
		for c := range cs.Name() {
			if strings.HasPrefix(c, prefix) {
				if err := s.DeleteConsumer(ctx, c); err != nil {
					errs = append(errs, fmt.Errorf("delete consumer %s/%s: %w", name, c, err))
				}
			}
		}
	}
	return errors.Join(errs...)
}

// deleteCheckpoints removes the detector state a run checkpointed in the
// default bucket under "<group>-detect.<family>".
func deleteCheckpoints(ctx context.Context, js jetstream.JetStream, prefix string) error {
	kv, err := js.KeyValue(ctx, detect.Config{}.WithDefaults().StateBucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	keys, err := kv.ListKeys(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for k := range keys.Keys() {
		if strings.HasPrefix(k, prefix) {
			errs = append(errs, kv.Purge(ctx, k))
		}
	}
	return errors.Join(errs...)
}
