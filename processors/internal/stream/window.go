package stream

import (
	"slices"
	"time"
)

// Hit is one event counted by a Window: its time, its id (for
// de-duplication and for the anomaly's related events) and an optional
// label (the user an IP tried, the outcome of a task).
type Hit struct {
	T     time.Time `json:"t"`
	ID    string    `json:"id,omitempty"`
	Label string    `json:"l,omitempty"`
}

// Window is an event-time sliding window: hits kept sorted by time, at most
// Cap of them (the oldest go first), pruned below a horizon. Redelivered
// events (same non-empty ID) are counted once, because the transports
// deliver at least once.
type Window struct {
	Hits []Hit `json:"hits"`
}

// Add inserts h in time order; it returns false for a duplicate id.
func (w *Window) Add(h Hit, limit int) bool {
	if h.ID != "" {
		for _, o := range w.Hits {
			if o.ID == h.ID {
				return false
			}
		}
	}
	i, _ := slices.BinarySearchFunc(w.Hits, h.T, func(a Hit, t time.Time) int { return a.T.Compare(t) })
	w.Hits = slices.Insert(w.Hits, i, h)
	if limit > 0 && len(w.Hits) > limit {
		w.Hits = slices.Delete(w.Hits, 0, len(w.Hits)-limit)
	}
	return true
}

// Prune drops hits before horizon.
func (w *Window) Prune(horizon time.Time) {
	i := 0
	for i < len(w.Hits) && w.Hits[i].T.Before(horizon) {
		i++
	}
	if i > 0 {
		w.Hits = slices.Delete(w.Hits, 0, i)
	}
}

// Densest returns the span [from, to) of length at most size holding the
// most hits that also contains t, and those hits. A late event can complete
// a burst whose later events arrived first, so every window containing t is
// considered, not only the one ending at t.
func (w *Window) Densest(t time.Time, size time.Duration) []Hit {
	var best []Hit
	lo := 0
	for hi := range w.Hits {
		for w.Hits[hi].T.Sub(w.Hits[lo].T) >= size {
			lo++
		}
		if w.Hits[hi].T.Before(t) || w.Hits[lo].T.After(t) {
			continue
		}
		if hi-lo+1 > len(best) {
			best = w.Hits[lo : hi+1]
		}
	}
	return best
}

// Distinct counts distinct non-empty labels among hits.
func Distinct(hits []Hit) int {
	seen := make(map[string]struct{}, len(hits))
	for _, h := range hits {
		if h.Label != "" {
			seen[h.Label] = struct{}{}
		}
	}
	return len(seen)
}

// CountLabel counts hits with the given label.
func CountLabel(hits []Hit, label string) int {
	n := 0
	for _, h := range hits {
		if h.Label == label {
			n++
		}
	}
	return n
}

// IDs returns up to max ids of hits, most recent last.
func IDs(hits []Hit, limit int) []string {
	out := make([]string, 0, min(len(hits), limit))
	for i := max(0, len(hits)-limit); i < len(hits); i++ {
		if hits[i].ID != "" {
			out = append(out, hits[i].ID)
		}
	}
	return out
}

// Span returns the hits in [from, to].
func (w *Window) Span(from, to time.Time) []Hit {
	lo, _ := slices.BinarySearchFunc(w.Hits, from, func(a Hit, t time.Time) int { return a.T.Compare(t) })
	hi := lo
	for hi < len(w.Hits) && !w.Hits[hi].T.After(to) {
		hi++
	}
	return w.Hits[lo:hi]
}
