package stream

import (
	"slices"
	"time"
)

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

// Clocks is one Clock per tenant. Why not one per family: tenants' events
// come from their own hosts with their own clocks and their own delays, so
// one tenant's clock running ahead (or one event stamped in 2100) must not
// make every other tenant's events late. The caller still bounds event
// times against the real clock before they get here (schemas.Decode with
// a real now); Clocks only keeps what one tenant does to itself.
type Clocks struct {
	Lateness time.Duration     `json:"lateness"`
	T        map[string]*Clock `json:"t"`
}

// Observe advances tenant's clock with an event time and reports whether
// the event is too late for that tenant.
func (c *Clocks) Observe(tenant string, t time.Time) (late bool) {
	if c.T == nil {
		c.T = map[string]*Clock{}
	}
	k, ok := c.T[tenant]
	if !ok {
		k = &Clock{}
		c.T[tenant] = k
	}
	k.Lateness = c.Lateness
	return k.Observe(t)
}

// Watermark is tenant's watermark, or the zero time before its first event.
func (c *Clocks) Watermark(tenant string) time.Time {
	k, ok := c.T[tenant]
	if !ok {
		return time.Time{}
	}
	k.Lateness = c.Lateness
	return k.Watermark()
}

// KeyWatermark is the watermark of the tenant of a state key (see Key).
func (c *Clocks) KeyWatermark(key string) time.Time {
	tenant, _ := SplitKey(key)
	return c.Watermark(tenant)
}

// Forget drops the clocks of tenants whose latest event is more than idle
// behind the latest event of any tenant, so tenants that come and go cost
// bounded memory. A forgotten tenant starts a new clock at its next event.
func (c *Clocks) Forget(idle time.Duration) {
	var latest time.Time
	for _, k := range c.T {
		if k.Max.After(latest) {
			latest = k.Max
		}
	}
	for tenant, k := range c.T {
		if k.Max.Before(latest.Add(-idle)) {
			delete(c.T, tenant)
		}
	}
}

// Clamp restarts every clock whose latest event time is after notAfter and
// returns those tenants, sorted. It is for a restored checkpoint: a clock
// beyond the real now plus the accepted skew can only come from an event
// that should never have been accepted, and it would make every event of
// that tenant late. Why restart rather than set Max to notAfter: Max =
// now+skew would still drop the next skew's worth of the tenant's live
// events as late, and the true latest event time is unknown; a restarted
// clock takes it from the tenant's next event and loses nothing.
func (c *Clocks) Clamp(notAfter time.Time) []string {
	var out []string
	for tenant, k := range c.T {
		if k.Max.After(notAfter) {
			delete(c.T, tenant)
			out = append(out, tenant)
		}
	}
	slices.Sort(out)
	return out
}
