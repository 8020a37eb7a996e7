package service

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// checkpointer keeps detector state in a JetStream key-value bucket, one
// key per family. Why KV rather than rebuild-by-replay: every detector's
// state is small and plain (windows, baselines, open tasks), a learned
// baseline would need hours of replay, and KV works the same for the
// Kafka-fed family. The price: a crash loses the state changes since the
// last checkpoint (CheckpointInterval) for events already acked; a clean
// shutdown loses nothing.
type checkpointer struct {
	kv   jetstream.KeyValue
	cfg  Config
	fams []*family
	log  *slog.Logger
}

func newCheckpointer(ctx context.Context, js jetstream.JetStream, cfg Config, fams []*family, log *slog.Logger) (*checkpointer, error) {
	kv, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.StateBucket, History: 1,
		Description: "tributary streaming detector checkpoints"})
	if err != nil {
		return nil, fmt.Errorf("detect: state bucket %s: %w", cfg.StateBucket, err)
	}
	return &checkpointer{kv: kv, cfg: cfg, fams: fams, log: log}, nil
}

func (c *checkpointer) key(f *family) string { return c.cfg.Group + "." + f.name }

func (c *checkpointer) restore(ctx context.Context) error {
	for _, f := range c.fams {
		e, err := c.kv.Get(ctx, c.key(f))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue
		}
		if err != nil {
			return fmt.Errorf("detect: read checkpoint %s: %w", c.key(f), err)
		}
		if err := f.det.Restore(e.Value()); err != nil {
			// A checkpoint of an older, incompatible version: start fresh
			// rather than refuse to run.
			c.log.Warn("detect: checkpoint ignored", "key", c.key(f), "err", err)
			continue
		}
		c.clamp(f)
		c.log.Info("detect: state restored", "key", c.key(f), "bytes", len(e.Value()))
	}
	return nil
}

// clamp restarts tenant clocks a restored checkpoint has beyond the real
// now plus the accepted skew: saved before future-dated events were
// refused, such a clock would make every event of its tenant late.
func (c *checkpointer) clamp(f *family) {
	notAfter := c.cfg.Now().Add(c.cfg.Limits.MaxFuture)
	if tenants := f.det.ClampClocks(notAfter); len(tenants) > 0 {
		c.log.Warn("detect: restored tenant clocks beyond now+skew restarted", "family", f.name,
			"not_after", notAfter, "tenants", tenants)
	}
}

func (c *checkpointer) save(ctx context.Context) error {
	var errs []error
	for _, f := range c.fams {
		f.mu.Lock()
		data, err := f.det.Snapshot()
		f.mu.Unlock()
		if err == nil {
			_, err = c.kv.Put(ctx, c.key(f), data)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("checkpoint %s: %w", c.key(f), err))
		}
	}
	return errors.Join(errs...)
}

func (c *checkpointer) loop(ctx context.Context) {
	t := time.NewTicker(c.cfg.CheckpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := c.save(ctx); err != nil {
				c.log.Warn("detect: checkpoint", "err", err)
			}
		}
	}
}

func (c *checkpointer) final() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.save(ctx)
}
