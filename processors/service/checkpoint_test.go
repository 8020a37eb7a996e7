package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/processors/internal/authdetect"
	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

// memKV is a key-value bucket in memory that refuses values over the NATS
// default max payload, as the server does, and can fail the n-th put.
type memKV struct {
	mu       sync.Mutex
	m        map[string][]byte
	max      int
	failAt   int // fail the put with this number (1-based); 0: never
	puts     int
	largest  int
	getCalls int
}

func newMemKV() *memKV { return &memKV{m: map[string][]byte{}, max: 1 << 20} }

func (k *memKV) Get(_ context.Context, key string) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.getCalls++
	v, ok := k.m[key]
	if !ok {
		return nil, fmt.Errorf("get %s: %w", key, jetstream.ErrKeyNotFound)
	}
	return bytes.Clone(v), nil
}

func (k *memKV) Put(_ context.Context, key string, v []byte) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.puts++
	if k.failAt > 0 && k.puts == k.failAt {
		return errors.New("nats: connection lost (injected)")
	}
	if len(v) > k.max {
		return fmt.Errorf("put %s: nats: maximum payload exceeded (%d > %d)", key, len(v), k.max)
	}
	k.largest = max(k.largest, len(v))
	k.m[key] = bytes.Clone(v)
	return nil
}

func (k *memKV) Delete(_ context.Context, key string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	delete(k.m, key)
	return nil
}

var tNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func testCfg() Config {
	return Config{Group: "t", Now: func() time.Time { return tNow }}.WithDefaults()
}

// authFamily is an auth detector that has seen a successful login of each
// of users users (the state that grows with users: 17.6 MB of JSON at
// 100k), from tenant "acme".
func authFamily(t *testing.T, users int) *family {
	t.Helper()
	det, err := authdetect.New(authdetect.Config{MaxKeys: max(users, 1)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range users {
		det.Observe(stream.Event{ID: uuid.Must(uuid.NewV7()).String(), Tenant: "acme", Time: tNow.Add(time.Duration(i) * time.Millisecond),
			Payload: schemas.LoginSucceeded{AuthOrigin: schemas.AuthOrigin{User: fmt.Sprintf("user-%06d", i), SourceIP: "192.0.2.1",
				Geo: &schemas.Geo{Country: "DE", Lat: 52.5, Lon: 13.4}}, Method: schemas.MethodPassword}})
	}
	return &family{name: "auth", det: det}
}

func snapshot(t *testing.T, f *family) []byte {
	t.Helper()
	b, err := f.det.Snapshot()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func restored(t *testing.T, kv kv) (*family, *checkpointer) {
	t.Helper()
	f := authFamily(t, 0)
	cp, err := newCheckpointerKV(kv, 1<<20-chunkHeadroom, testCfg(), []*family{f}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.restore(context.Background()); err != nil {
		t.Fatal(err)
	}
	return f, cp
}

// TestCheckpointOfManyUsers: the auth detector's state at 25k users is
// about 4 MiB, far above the 1 MiB max payload (17.6 MB at 100k, which
// tests/faults runs); it used to be put as one value, refused, and lost at
// the next restart with a warning only. Compressed and chunked it is saved
// and restored whole.
func TestCheckpointOfManyUsers(t *testing.T) {
	kv := newMemKV()
	f := authFamily(t, 25_000)
	want := snapshot(t, f)
	cp, err := newCheckpointerKV(kv, 1<<20-chunkHeadroom, testCfg(), []*family{f}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.save(context.Background()); err != nil {
		t.Fatalf("save of %d bytes: %v", len(want), err)
	}
	if err := cp.Err(); err != nil {
		t.Errorf("Err after a good save: %v", err)
	}
	t.Logf("snapshot %d bytes stored as %d chunks, largest value %d bytes", len(want), cp.st["auth"].head.Chunks, kv.largest)
	if len(want) < 3<<20 {
		t.Errorf("snapshot only %d bytes: the test does not exercise a state over the max payload", len(want))
	}
	got, _ := restored(t, kv)
	if !bytes.Equal(snapshot(t, got), want) {
		t.Error("restored state differs from the saved one")
	}
}

// TestCheckpointHalfWritten: a save that fails between chunks is an error
// (reported by Err, hence /healthz) and the restore still reads the last
// complete generation; a corrupt newest generation falls back to the one
// before; a set never restores mixed.
func TestCheckpointHalfWritten(t *testing.T) {
	kv := newMemKV()
	f := authFamily(t, 10_000)
	log := slog.New(slog.DiscardHandler)
	cp, err := newCheckpointerKV(kv, 32<<10, testCfg(), []*family{f}, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := cp.save(ctx); err != nil {
		t.Fatal(err)
	}
	gen1 := snapshot(t, f)
	if cp.st["auth"].head.Chunks < 3 {
		t.Fatalf("%d chunks: too few for the test", cp.st["auth"].head.Chunks)
	}
	// More state, then a save that dies at its second chunk.
	f.det.Observe(stream.Event{ID: uuid.Must(uuid.NewV7()).String(), Tenant: "acme", Time: tNow.Add(time.Minute),
		Payload: schemas.LoginSucceeded{AuthOrigin: schemas.AuthOrigin{User: "late-user", SourceIP: "192.0.2.1",
			Geo: &schemas.Geo{Country: "DE", Lat: 52.5, Lon: 13.4}}, Method: schemas.MethodPassword}})
	kv.failAt = kv.puts + 2
	if err := cp.save(ctx); err == nil {
		t.Fatal("a save that failed halfway returned nil")
	}
	if err := cp.Err(); err == nil || !strings.Contains(err.Error(), "injected") {
		t.Errorf("Err after a failed save = %v, want the put's error", err)
	}
	got, _ := restored(t, kv)
	if !bytes.Equal(snapshot(t, got), gen1) {
		t.Error("after a half-written save the restore is not the last complete generation")
	}

	// The retry succeeds and clears the error; then its chunks are damaged
	// behind the head's back: the restore falls back to generation 1.
	kv.failAt = 0
	if err := cp.save(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cp.Err(); err != nil {
		t.Errorf("Err after a good save: %v", err)
	}
	gen2 := snapshot(t, f)
	got, _ = restored(t, kv)
	if !bytes.Equal(snapshot(t, got), gen2) {
		t.Fatal("restore is not the newest generation")
	}
	h := cp.st["auth"].head
	kv.m[cp.chunkKey(f, h.Slot, 1)] = []byte("damaged")
	got, _ = restored(t, kv)
	if !bytes.Equal(snapshot(t, got), gen1) {
		t.Error("with the newest generation damaged the restore is not the previous one")
	}
	delete(kv.m, cp.chunkKey(f, h.Slot, h.Chunks-1))
	delete(kv.m, cp.chunkKey(f, 1-h.Slot, 0))
	got, _ = restored(t, kv)
	if s := snapshot(t, got); bytes.Equal(s, gen1) || bytes.Equal(s, gen2) {
		t.Error("restored from an incomplete set")
	}
	// Two slots and a head: saving again and again does not add keys.
	for range 3 {
		if err := cp.save(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n, bound := len(kv.m), cp.st["auth"].slots[0]+cp.st["auth"].slots[1]+1; n != bound {
		t.Errorf("bucket holds %d keys after repeated saves, want the two slots' chunks and the head, %d", n, bound)
	}
}

// TestRestoreClampsFutureClock: a checkpoint saved with a tenant clock in
// 2100 (before such events were refused) would make every event of that
// tenant late after the restart; restore restarts that clock.
func TestRestoreClampsFutureClock(t *testing.T) {
	kv := newMemKV()
	f := authFamily(t, 0)
	f.det.Observe(stream.Event{ID: "x", Tenant: "acme", Time: time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
		Payload: schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "u", SourceIP: "192.0.2.1"}, Method: schemas.MethodPassword,
			Reason: schemas.ReasonBadCredentials}})
	cp, err := newCheckpointerKV(kv, 1<<20, testCfg(), []*family{f}, nil, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if err := cp.save(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _ := restored(t, kv)
	for i := range 10 {
		got.det.Observe(stream.Event{ID: fmt.Sprint(i), Tenant: "acme", Time: tNow.Add(time.Duration(i) * time.Second),
			Payload: schemas.LoginFailed{AuthOrigin: schemas.AuthOrigin{User: "u", SourceIP: "192.0.2.1"}, Method: schemas.MethodPassword,
				Reason: schemas.ReasonBadCredentials}})
	}
	if late := got.det.(*authdetect.Detector).Late(); late != 0 {
		t.Errorf("%d of 10 events late after restoring a clock in 2100", late)
	}
}
