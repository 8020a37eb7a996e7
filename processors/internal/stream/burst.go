package stream

import "time"

// Burst is a count-over-window trigger with incident suppression: once it
// fires, hits that keep arriving within Window of the last one extend the
// same incident instead of firing again, so one attack is one finding.
type Burst struct {
	W     Window    `json:"w"`
	Until time.Time `json:"until,omitzero"`
}

// Add counts h and returns the hits of the densest window containing it
// when that window reaches min hits and no incident is open. watermark
// bounds what can still arrive, so older hits are pruned.
func (b *Burst) Add(h Hit, window time.Duration, minHits int, watermark time.Time) ([]Hit, bool) {
	hits := b.Observe(h, window, max(4*minHits, 64), watermark)
	if hits == nil {
		return nil, false
	}
	return hits, b.Check(hits, h.T, window, len(hits) >= minHits)
}

// Observe counts h without deciding anything and returns the densest window
// containing it, or nil for a duplicate. limit caps the hits kept.
func (b *Burst) Observe(h Hit, window time.Duration, limit int, watermark time.Time) []Hit {
	if !b.W.Add(h, limit) {
		return nil
	}
	if !watermark.IsZero() {
		b.W.Prune(watermark.Add(-window))
	}
	return b.W.Densest(h.T, window)
}

// Check applies the suppression to an externally decided trigger (e.g.
// distinct users rather than count): it opens an incident when ok and none
// is open at t, and extends an open one.
func (b *Burst) Check(hits []Hit, t time.Time, window time.Duration, ok bool) bool {
	if t.Before(b.Until) {
		if ok || len(hits) > 0 {
			b.Until = maxTime(b.Until, t.Add(window))
		}
		return false
	}
	if !ok {
		return false
	}
	b.Until = hits[len(hits)-1].T.Add(window)
	return true
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
