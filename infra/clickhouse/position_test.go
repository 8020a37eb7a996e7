package clickhouse

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// writePositioned writes seqs 0..n-1 of each key, in an order shuffled by
// seed, concurrently, and waits for all of them.
func writePositioned(t *testing.T, w *BatchWriter, keys []string, n int, seed uint64) {
	t.Helper()
	type item struct {
		key string
		seq int64
	}
	var items []item
	for _, k := range keys {
		for s := range n {
			items = append(items, item{k, int64(s)})
		}
	}
	rng := rand.New(rand.NewPCG(seed, seed))
	rng.Shuffle(len(items), func(i, j int) { items[i], items[j] = items[j], items[i] })
	var wg sync.WaitGroup
	errs := make([]error, len(items))
	for i, it := range items {
		wg.Go(func() {
			ctx := WithPosition(t.Context(), Position{Key: it.key, Seq: it.seq})
			errs[i] = w.Write(ctx, fmt.Sprintf("%s@%d", it.key, it.seq), i)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
}

// batchesByToken maps each sent batch's token to its rows' ids, sorted.
func batchesByToken(t *testing.T, c *fakeConn) map[string][]string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := map[string][]string{}
	for i, tok := range c.tokens {
		if tok == "" {
			t.Fatalf("batch %d sent without a token", i)
		}
		var ids []string
		for _, r := range c.sent[i] {
			ids = append(ids, r[0].(string))
		}
		slices.Sort(ids)
		out[tok] = ids
	}
	return out
}

// A log replayed after a crash must be cut into the same batches, whatever
// order its messages reach the writer in: each window of MaxRows
// consecutive positions of one log is one batch with one token.
func TestBatchWriterReplayRebuildsTheSameBatches(t *testing.T) {
	cfg := BatchConfig{MaxRows: 10, FlushInterval: time.Hour, DedupTokens: true}
	keys := []string{"telemetry.metrics-0", "telemetry.metrics-1"}
	first, replay := &fakeConn{}, &fakeConn{}
	writePositioned(t, newTestWriter(t, first, cfg), keys, 30, 1)
	writePositioned(t, newTestWriter(t, replay, cfg), keys, 30, 2)

	a, b := batchesByToken(t, first), batchesByToken(t, replay)
	if len(a) != 6 {
		t.Fatalf("%d batches, want 6 (3 windows of 10 per log): %v", len(a), a)
	}
	for tok, ids := range a {
		if !slices.Equal(b[tok], ids) {
			t.Fatalf("token %s: first pass %v, replay %v", tok, ids, b[tok])
		}
		key := strings.Split(tok, "/")[1]
		for _, id := range ids {
			if !strings.HasPrefix(id, key+"@") {
				t.Fatalf("batch %s mixes logs: %v", tok, ids)
			}
		}
	}
}

// Different rows never share a token, even with the same first and last
// position: the server would drop rows it never stored.
func TestDedupTokenNamesExactlyItsRows(t *testing.T) {
	w := &BatchWriter{cfg: BatchConfig{Table: "t", MaxRows: 10, DedupTokens: true}}
	rows := func(seqs ...int64) []*pendingRow {
		var out []*pendingRow
		for _, s := range seqs {
			out = append(out, &pendingRow{pos: Position{Key: "k-0", Seq: s}})
		}
		return out
	}
	tokens := map[string]string{}
	for _, set := range [][]int64{{0, 1, 2, 5}, {0, 1, 2, 3, 4, 5}, {0, 5}, {0, 3, 4, 5}, {1, 2}} {
		tok := w.dedupToken(rows(set...))
		if prev, dup := tokens[tok]; dup {
			t.Fatalf("rows %v and %s share token %s", set, prev, tok)
		}
		tokens[tok] = fmt.Sprint(set)
	}
	if w.dedupToken(rows(5, 0, 2, 1)) != w.dedupToken(rows(0, 1, 2, 5)) {
		t.Fatal("the token depends on arrival order")
	}
	mixed := append(rows(1), &pendingRow{pos: Position{Key: "k-1", Seq: 2}})
	if tok := w.dedupToken(mixed); tok != "" {
		t.Fatalf("rows of two logs got token %q", tok)
	}
	w.cfg.DedupTokens = false
	if tok := w.dedupToken(rows(0, 1)); tok != "" {
		t.Fatalf("DedupTokens off, token %q", tok)
	}
}

// Without positions rows batch across messages as before, without tokens.
func TestBatchWriterUnpositionedRowsHaveNoToken(t *testing.T) {
	conn := &fakeConn{}
	w := newTestWriter(t, conn, BatchConfig{MaxRows: 5, FlushInterval: time.Hour, DedupTokens: true})
	for i, err := range writeAll(context.Background(), w, ids(10)) {
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
	}
	if len(conn.tokens) != 2 || conn.tokens[0] != "" || conn.tokens[1] != "" {
		t.Fatalf("tokens %q, want two batches without", conn.tokens)
	}
}
