package clickhouse

import (
	"context"
	"fmt"
	"hash/fnv"
	"slices"
	"strconv"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

// Position is where a row's message sits in its transport: Key names the
// ordered log (a Kafka topic partition, a JetStream stream), Seq the
// message's place in it (offset, stream sequence).
type Position struct {
	Key string
	Seq int64
}

type positionKey struct{}

// WithPosition tells Write where the row's message sits. With
// BatchConfig.DedupTokens, rows with a position are batched per Key, in
// windows of WindowRows consecutive Seqs (offsets 0–999, 1000–1999, …), so
// the replay of a log after a crash cuts the same full batches as the
// first pass — which is what lets a server drop the replayed batch by its
// deduplication token.
func WithPosition(ctx context.Context, p Position) context.Context {
	return context.WithValue(ctx, positionKey{}, p)
}

// PositionFrom returns what WithPosition put in ctx; Key is "" when nothing.
func PositionFrom(ctx context.Context) Position {
	p, _ := ctx.Value(positionKey{}).(Position)
	return p
}

// groupID names the rows that may share a batch: one window of one log,
// or every row without a position.
type groupID struct {
	key    string
	window int64
}

// group holds rows in arrival order.
type group struct {
	rows []*pendingRow
}

func (w *BatchWriter) groupOf(p Position) groupID {
	if p.Key == "" || !w.cfg.DedupTokens {
		return groupID{}
	}
	return groupID{key: p.Key, window: p.Seq / int64(w.cfg.WindowRows)}
}

// dedupToken names a batch by exactly which log entries it holds: the
// table, the log, the first and last Seq, the count and a hash of every
// Seq. A replay that rebuilds the same batch gets the same token; any
// other set of rows gets another, so the server never drops rows it did
// not store. "" when a row has no position.
func (w *BatchWriter) dedupToken(rows []*pendingRow) string {
	if len(rows) == 0 || !w.cfg.DedupTokens || rows[0].pos.Key == "" {
		return ""
	}
	key := rows[0].pos.Key
	seqs := make([]int64, len(rows))
	for i, r := range rows {
		if r.pos.Key == "" || r.pos.Key != key {
			return ""
		}
		seqs[i] = r.pos.Seq
	}
	slices.Sort(seqs)
	h := fnv.New64a()
	var b []byte
	for _, s := range seqs {
		b = strconv.AppendInt(b[:0], s, 10)
		b = append(b, ',')
		_, _ = h.Write(b)
	}
	return fmt.Sprintf("%s/%s/%d-%d/%d/%016x", w.cfg.Table, key, seqs[0], seqs[len(seqs)-1], len(seqs), h.Sum64())
}

type tokenKey struct{}

// withDedupToken sets the insert's settings, and records the token where a
// test's fake connection can read it.
func withDedupToken(ctx context.Context, tok string) context.Context {
	ctx = context.WithValue(ctx, tokenKey{}, tok)
	return ch.Context(ctx, ch.WithSettings(ch.Settings{
		"insert_deduplication_token":                         tok,
		"deduplicate_blocks_in_dependent_materialized_views": 1,
	}))
}

// DedupTokensSupported reports whether a server takes deduplication tokens
// for non-replicated tables (22.2; 22.8 is the gate of migration 012).
func DedupTokensSupported(v Version) bool {
	return v.AtLeast(Version{Major: 22, Minor: 8})
}

// Positioned reports whether the writer batches by position, so callers
// know whether to pass one (WithPosition).
func (w *BatchWriter) Positioned() bool { return w.cfg.DedupTokens }
