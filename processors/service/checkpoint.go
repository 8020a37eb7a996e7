package service

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/nats-io/nats.go/jetstream"
)

// checkpointer keeps detector state in a JetStream key-value bucket. Why
// KV rather than rebuild-by-replay: every detector's state is plain
// (windows, baselines, open tasks), a learned baseline would need hours of
// replay, and KV works the same for the Kafka-fed family. The price: a
// crash loses the state changes since the last checkpoint
// (CheckpointInterval) for events already acked; a clean shutdown loses
// nothing.
//
// A snapshot can outgrow one message (the auth detector's is 17.6 MB of
// JSON at 100k users; NATS refuses payloads over max_payload, 1 MiB by
// default), so each is compressed (zstd) and split into chunks under the
// server's max payload. The chunks of one generation go to one of two
// slots, "<Group>.<family>.s0.<i>" or ".s1.<i>", the slot the head does not
// point to; only then is the head "<Group>.<family>.head" replaced (one
// Put, so atomic) by a manifest naming the generation, its slot, chunk
// count, length and SHA-256, and the previous generation. A save that dies
// halfway leaves the head on the previous, complete set; a restore checks
// the hash and falls back to the previous generation, so a half-written or
// mixed set is never restored. Two fixed slots keep the bucket's key count
// bounded (no key per generation).
type checkpointer struct {
	kv    kv
	cfg   Config
	fams  []*family
	log   *slog.Logger
	dm    *detectMetrics
	chunk int // bytes per chunk
	enc   *zstd.Encoder

	saveMu sync.Mutex           // one save at a time (ticker and final)
	st     map[string]*famState // by family name, under saveMu

	errMu sync.Mutex
	errs  map[string]error // each family's last save error, for /healthz
}

// famState is what the checkpointer knows of a family's stored sets.
type famState struct {
	head   *generation // the generation the head points to
	slots  [2]int      // chunks possibly present in each slot
	legacy bool        // a pre-chunking checkpoint under the bare key
}

// generation describes one complete stored snapshot.
type generation struct {
	Gen    uint64    `json:"gen"`
	Slot   int       `json:"slot"`
	Chunks int       `json:"chunks"`
	Bytes  int       `json:"bytes"`  // compressed length
	Raw    int       `json:"raw"`    // snapshot length
	SHA256 string    `json:"sha256"` // of the compressed bytes
	Codec  string    `json:"codec"`
	Saved  time.Time `json:"saved"`
}

// manifest is the head's value.
type manifest struct {
	generation
	Prev *generation `json:"prev,omitempty"`
}

const codecZstd = "zstd"

// maxSnapshot bounds what a restore decompresses (and allocates from a
// manifest's word): far above any detector's state at its MaxKeys.
const maxSnapshot = 1 << 30

// errCorrupt marks a stored set that is incomplete or does not match its
// manifest: restore falls back instead of failing.
var errCorrupt = errors.New("checkpoint set incomplete or corrupt")

// kv is the part of a key-value bucket the checkpointer uses (a seam for
// tests). Get wraps jetstream.ErrKeyNotFound for a missing key.
type kv interface {
	Get(ctx context.Context, key string) ([]byte, error)
	Put(ctx context.Context, key string, value []byte) error
	Delete(ctx context.Context, key string) error
}

type jsKV struct{ b jetstream.KeyValue }

func (j jsKV) Get(ctx context.Context, key string) ([]byte, error) {
	e, err := j.b.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return e.Value(), nil
}

func (j jsKV) Put(ctx context.Context, key string, value []byte) error {
	_, err := j.b.Put(ctx, key, value)
	return err
}

func (j jsKV) Delete(ctx context.Context, key string) error { return j.b.Delete(ctx, key) }

// chunkHeadroom is left under the server's max payload for what a KV put
// adds to the value.
const chunkHeadroom = 1024

func newCheckpointer(ctx context.Context, js jetstream.JetStream, cfg Config, fams []*family, dm *detectMetrics, log *slog.Logger) (*checkpointer, error) {
	// As many copies as the event streams: on a cluster, losing a node must
	// not lose the detectors' state with it.
	b, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.StateBucket, History: 1,
		Replicas: max(cfg.Provision.Replicas, 1), Description: "tributary streaming detector checkpoints"})
	if err != nil {
		return nil, fmt.Errorf("detect: state bucket %s: %w", cfg.StateBucket, err)
	}
	chunk := int(js.Conn().MaxPayload()) - chunkHeadroom
	if cfg.CheckpointChunkBytes > 0 {
		chunk = min(chunk, cfg.CheckpointChunkBytes)
	}
	return newCheckpointerKV(jsKV{b}, chunk, cfg, fams, dm, log)
}

func newCheckpointerKV(store kv, chunk int, cfg Config, fams []*family, dm *detectMetrics, log *slog.Logger) (*checkpointer, error) {
	if chunk <= 0 {
		return nil, fmt.Errorf("detect: checkpoint chunk size %d: the server's max payload is too small", chunk)
	}
	enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1))
	if err != nil {
		return nil, fmt.Errorf("detect: checkpoint encoder: %w", err)
	}
	c := &checkpointer{kv: store, cfg: cfg, fams: fams, log: log, dm: dm, chunk: chunk, enc: enc,
		st: map[string]*famState{}, errs: map[string]error{}}
	for _, f := range fams {
		c.st[f.name] = &famState{}
	}
	return c, nil
}

func (c *checkpointer) legacyKey(f *family) string { return c.cfg.Group + "." + f.name }
func (c *checkpointer) headKey(f *family) string   { return c.legacyKey(f) + ".head" }
func (c *checkpointer) chunkKey(f *family, slot, i int) string {
	return fmt.Sprintf("%s.s%d.%d", c.legacyKey(f), slot, i)
}

// restore reads every family's latest complete checkpoint. A server error
// fails the start; a corrupt or incompatible checkpoint is logged and the
// detector starts fresh rather than refuse to run.
func (c *checkpointer) restore(ctx context.Context) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	dec, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(maxSnapshot))
	if err != nil {
		return fmt.Errorf("detect: checkpoint decoder: %w", err)
	}
	defer dec.Close()
	for _, f := range c.fams {
		if err := c.restoreOne(ctx, f, dec); err != nil {
			return err
		}
	}
	return nil
}

func (c *checkpointer) restoreOne(ctx context.Context, f *family, dec *zstd.Decoder) error {
	st := c.st[f.name]
	head, err := c.kv.Get(ctx, c.headKey(f))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return c.restoreLegacy(ctx, f)
	}
	if err != nil {
		return fmt.Errorf("detect: read checkpoint %s: %w", c.headKey(f), err)
	}
	var m manifest
	if err := json.Unmarshal(head, &m); err != nil {
		c.log.Error("detect: checkpoint head unreadable; starting fresh", "key", c.headKey(f), "err", err)
		return nil
	}
	st.head = &m.generation
	st.slots[m.Slot] = m.Chunks
	cands := []generation{m.generation}
	if m.Prev != nil {
		st.slots[m.Prev.Slot] = m.Prev.Chunks
		cands = append(cands, *m.Prev)
	}
	for _, g := range cands {
		data, err := c.load(ctx, f, g, dec)
		if errors.Is(err, errCorrupt) {
			c.log.Error("detect: checkpoint generation unusable; trying the previous one", "key", c.headKey(f), "gen", g.Gen, "err", err)
			continue
		}
		if err != nil {
			return fmt.Errorf("detect: read checkpoint %s generation %d: %w", c.headKey(f), g.Gen, err)
		}
		if err := f.det.Restore(data); err != nil {
			// A checkpoint of an older, incompatible version: start fresh.
			c.log.Warn("detect: checkpoint ignored", "key", c.headKey(f), "gen", g.Gen, "err", err)
			return nil
		}
		c.clamp(f)
		c.log.Info("detect: state restored", "key", c.headKey(f), "gen", g.Gen, "bytes", g.Bytes, "raw", g.Raw,
			"chunks", g.Chunks, "saved", g.Saved)
		return nil
	}
	c.log.Error("detect: no complete checkpoint; starting fresh", "key", c.headKey(f))
	return nil
}

// restoreLegacy reads a checkpoint written before chunking: the raw
// snapshot under the bare key. It is deleted after the first chunked save.
func (c *checkpointer) restoreLegacy(ctx context.Context, f *family) error {
	data, err := c.kv.Get(ctx, c.legacyKey(f))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("detect: read checkpoint %s: %w", c.legacyKey(f), err)
	}
	c.st[f.name].legacy = true
	if err := f.det.Restore(data); err != nil {
		c.log.Warn("detect: checkpoint ignored", "key", c.legacyKey(f), "err", err)
		return nil
	}
	c.clamp(f)
	c.log.Info("detect: state restored", "key", c.legacyKey(f), "bytes", len(data))
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

// load reads and checks one generation's chunks and decompresses them.
func (c *checkpointer) load(ctx context.Context, f *family, g generation, dec *zstd.Decoder) ([]byte, error) {
	if g.Codec != codecZstd || g.Chunks < 1 || g.Slot < 0 || g.Slot > 1 || g.Raw > maxSnapshot || g.Bytes > maxSnapshot {
		return nil, fmt.Errorf("%w: manifest %+v", errCorrupt, g)
	}
	z := make([]byte, 0, g.Bytes)
	for i := range g.Chunks {
		b, err := c.kv.Get(ctx, c.chunkKey(f, g.Slot, i))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			return nil, fmt.Errorf("%w: chunk %d of %d missing", errCorrupt, i, g.Chunks)
		}
		if err != nil {
			return nil, fmt.Errorf("chunk %d: %w", i, err)
		}
		z = append(z, b...)
	}
	sum := sha256.Sum256(z)
	if len(z) != g.Bytes || hex.EncodeToString(sum[:]) != g.SHA256 {
		return nil, fmt.Errorf("%w: %d bytes with another hash, want %d bytes", errCorrupt, len(z), g.Bytes)
	}
	data, err := dec.DecodeAll(z, make([]byte, 0, g.Raw))
	if err != nil || len(data) != g.Raw {
		return nil, fmt.Errorf("%w: decompress: %d of %d bytes, %v", errCorrupt, len(data), g.Raw, err)
	}
	return data, nil
}

// save checkpoints every family; each family's error is kept for Err.
func (c *checkpointer) save(ctx context.Context) error {
	c.saveMu.Lock()
	defer c.saveMu.Unlock()
	var errs []error
	for _, f := range c.fams {
		err := c.saveOne(ctx, f)
		if err != nil {
			err = fmt.Errorf("checkpoint %s: %w", c.headKey(f), err)
			errs = append(errs, err)
			if c.dm != nil {
				c.dm.checkpointFails.WithLabelValues(f.name).Inc()
			}
		}
		c.errMu.Lock()
		c.errs[f.name] = err
		c.errMu.Unlock()
	}
	return errors.Join(errs...)
}

func (c *checkpointer) saveOne(ctx context.Context, f *family) error {
	f.mu.Lock()
	data, err := f.det.Snapshot()
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("snapshot: %w", err)
	}
	z := c.enc.EncodeAll(data, make([]byte, 0, len(data)/4))
	st := c.st[f.name]
	g := generation{Gen: 1, Chunks: (len(z) + c.chunk - 1) / c.chunk, Bytes: len(z), Raw: len(data),
		Codec: codecZstd, Saved: c.cfg.Now().UTC()}
	if st.head != nil {
		g.Gen, g.Slot = st.head.Gen+1, 1-st.head.Slot
	}
	sum := sha256.Sum256(z)
	g.SHA256 = hex.EncodeToString(sum[:])
	for i := range g.Chunks {
		// Chunks beyond what the slot held before are new keys: count them
		// before the put, so a failed save's leftovers are still cleaned.
		st.slots[g.Slot] = max(st.slots[g.Slot], i+1)
		part := z[i*c.chunk : min((i+1)*c.chunk, len(z))]
		if err := c.kv.Put(ctx, c.chunkKey(f, g.Slot, i), part); err != nil {
			return fmt.Errorf("put chunk %d of %d (%d bytes): %w", i, g.Chunks, len(part), err)
		}
	}
	m := manifest{generation: g, Prev: st.head}
	head, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode head: %w", err)
	}
	if err := c.kv.Put(ctx, c.headKey(f), head); err != nil {
		return fmt.Errorf("put head of generation %d: %w", g.Gen, err)
	}
	st.head = &g
	// Leftovers of an older, longer generation in this slot: the head no
	// longer names them; removing them only saves space.
	for i := g.Chunks; i < st.slots[g.Slot]; i++ {
		if err := c.kv.Delete(ctx, c.chunkKey(f, g.Slot, i)); err != nil {
			c.log.Warn("detect: remove surplus checkpoint chunk", "key", c.chunkKey(f, g.Slot, i), "err", err)
			break
		}
	}
	st.slots[g.Slot] = g.Chunks
	if st.legacy {
		if err := c.kv.Delete(ctx, c.legacyKey(f)); err == nil {
			st.legacy = false
		}
	}
	if c.dm != nil {
		c.dm.checkpointBytes.WithLabelValues(f.name, "raw").Set(float64(len(data)))
		c.dm.checkpointBytes.WithLabelValues(f.name, "stored").Set(float64(len(z)))
	}
	c.log.Debug("detect: checkpoint saved", "key", c.headKey(f), "gen", g.Gen, "raw", len(data), "bytes", len(z), "chunks", g.Chunks)
	return nil
}

// Err is nil while every family's last save succeeded: /healthz reports
// it, because state that cannot be saved is lost at the next restart.
func (c *checkpointer) Err() error {
	c.errMu.Lock()
	defer c.errMu.Unlock()
	var errs []error
	for _, f := range c.fams {
		if err := c.errs[f.name]; err != nil {
			errs = append(errs, err)
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
			// A save cut short by shutdown is no failure: final saves next.
			if err := c.save(ctx); err != nil && ctx.Err() == nil {
				c.log.Error("detect: checkpoint not saved", "err", err)
			}
		}
	}
}

func (c *checkpointer) final() error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return c.save(ctx)
}
