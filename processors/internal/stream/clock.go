package stream

import "time"

// Clock tracks event time. Its watermark is the largest event time seen
// minus the allowed lateness: every event at or after the watermark is still
// accepted, and anything that depends on "nothing arrived before t" (a
// silent host, a stuck task) is decided only once the watermark passes t.
type Clock struct {
	Lateness time.Duration `json:"lateness"`
	Max      time.Time     `json:"max"`
}

// Observe advances the clock with an event time and reports whether the
// event is too late (before the watermark as it stood before this event).
func (c *Clock) Observe(t time.Time) (late bool) {
	if !c.Max.IsZero() && t.Before(c.Watermark()) {
		return true
	}
	if t.After(c.Max) {
		c.Max = t
	}
	return false
}

// Watermark is Max − Lateness, or the zero time before the first event.
func (c *Clock) Watermark() time.Time {
	if c.Max.IsZero() {
		return time.Time{}
	}
	return c.Max.Add(-c.Lateness)
}
