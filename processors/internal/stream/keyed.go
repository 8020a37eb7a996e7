package stream

import (
	"slices"
	"strings"
	"time"
)

// Entry is one key's state and the event time it was last touched.
type Entry[V any] struct {
	Seen time.Time `json:"seen"`
	V    V         `json:"v"`
}

// Keyed is per-entity state with two bounds: keys idle for longer than Idle
// (in event time) are forgotten by Expire, and when there are more than Max
// keys the least recently seen tenth is evicted at once, so a flood of new
// keys (an IP scan) costs bounded memory and amortised O(1) per event.
type Keyed[V any] struct {
	Max     int                  `json:"-"`
	Idle    time.Duration        `json:"-"`
	M       map[string]*Entry[V] `json:"m"`
	Evicted int                  `json:"evicted"`
}

// NewKeyed returns an empty Keyed.
func NewKeyed[V any](max int, idle time.Duration) Keyed[V] {
	return Keyed[V]{Max: max, Idle: idle, M: map[string]*Entry[V]{}}
}

// Get returns key's state, creating it, and marks it seen at t.
func (k *Keyed[V]) Get(key string, t time.Time) *V {
	if k.M == nil {
		k.M = map[string]*Entry[V]{}
	}
	e, ok := k.M[key]
	if !ok {
		if k.Max > 0 && len(k.M) >= k.Max {
			k.evict(max(1, k.Max/10))
		}
		e = &Entry[V]{}
		k.M[key] = e
	}
	if t.After(e.Seen) {
		e.Seen = t
	}
	return &e.V
}

// Peek returns key's state without creating or touching it.
func (k *Keyed[V]) Peek(key string) (*V, bool) {
	e, ok := k.M[key]
	if !ok {
		return nil, false
	}
	return &e.V, true
}

// Delete forgets key.
func (k *Keyed[V]) Delete(key string) { delete(k.M, key) }

// Len is the number of keys held.
func (k *Keyed[V]) Len() int { return len(k.M) }

// Expire forgets keys not seen since watermark − Idle.
func (k *Keyed[V]) Expire(watermark time.Time) {
	k.ExpireBy(func(string) time.Time { return watermark })
}

// ExpireBy forgets keys not seen since watermark(key) − Idle; a zero
// watermark keeps the key. Detectors pass their tenant's watermark
// (Clocks.KeyWatermark), so one tenant's time never expires another's
// state.
func (k *Keyed[V]) ExpireBy(watermark func(key string) time.Time) {
	if k.Idle <= 0 {
		return
	}
	for key, e := range k.M {
		wm := watermark(key)
		if !wm.IsZero() && e.Seen.Before(wm.Add(-k.Idle)) {
			delete(k.M, key)
		}
	}
}

// Each calls f for every key in key order (deterministic output).
func (k *Keyed[V]) Each(f func(key string, v *V)) {
	keys := make([]string, 0, len(k.M))
	for key := range k.M {
		keys = append(keys, key)
	}
	slices.Sort(keys)
	for _, key := range keys {
		f(key, &k.M[key].V)
	}
}

// EachTenant calls f for every key of tenant (see Key) in key order. It
// walks the whole map but sorts only the tenant's keys.
func (k *Keyed[V]) EachTenant(tenant string, f func(key string, v *V)) {
	prefix := tenant + "\x00"
	var keys []string
	for key := range k.M {
		if strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
	}
	slices.Sort(keys)
	for _, key := range keys {
		f(key, &k.M[key].V)
	}
}

func (k *Keyed[V]) evict(n int) {
	type ks struct {
		key  string
		seen time.Time
	}
	all := make([]ks, 0, len(k.M))
	for key, e := range k.M {
		all = append(all, ks{key, e.Seen})
	}
	slices.SortFunc(all, func(a, b ks) int { return a.seen.Compare(b.seen) })
	for _, e := range all[:min(n, len(all))] {
		delete(k.M, e.key)
		k.Evicted++
	}
}
