package authdetect

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/tributary-io/tributary/processors/internal/stream"
	"github.com/tributary-io/tributary/schemas"
)

// expireEvery amortises the idle-key sweep over this many events.
const expireEvery = 1024

type login struct {
	T       time.Time `json:"t"`
	ID      string    `json:"id"`
	IP      string    `json:"ip"`
	Country string    `json:"c"`
	Lat     float64   `json:"lat"`
	Lon     float64   `json:"lon"`
}

type user struct {
	Logins    []login              `json:"logins"` // recent geo-located logins, time order
	Countries map[string]time.Time `json:"countries"`
	N         int                  `json:"n"` // successful logins seen
}

type ipState struct {
	Fail  stream.Burst `json:"fail"`
	Stuff stream.Burst `json:"stuff"` // only its incident suppression is used
}

// state is everything the detector knows; it is what Snapshot stores.
type state struct {
	Clocks   stream.Clocks              `json:"clocks"` // per tenant
	FailUser stream.Keyed[stream.Burst] `json:"fail_user"`
	FailIP   stream.Keyed[ipState]      `json:"fail_ip"`
	MFA      stream.Keyed[stream.Burst] `json:"mfa"`
	Denied   stream.Keyed[stream.Burst] `json:"denied"`
	Users    stream.Keyed[user]         `json:"users"`
	Late     int                        `json:"late"`
	Events   int                        `json:"events"`
}

// Detector is the auth family's detector; see stream.Detector for the
// concurrency contract.
type Detector struct {
	cfg Config
	s   state
}

var _ stream.Detector = (*Detector)(nil)

// New validates cfg and returns an empty detector.
func New(cfg Config) (*Detector, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	d := &Detector{cfg: cfg}
	d.reset()
	return d, nil
}

func (d *Detector) reset() {
	c := d.cfg
	d.s.Clocks.Lateness = c.Lateness
	d.s.FailUser = rebound(d.s.FailUser, c)
	d.s.FailIP = rebound(d.s.FailIP, c)
	d.s.MFA = rebound(d.s.MFA, c)
	d.s.Denied = rebound(d.s.Denied, c)
	d.s.Users = rebound(d.s.Users, c)
}

func rebound[V any](k stream.Keyed[V], c Config) stream.Keyed[V] {
	if k.M == nil {
		k = stream.NewKeyed[V](c.MaxKeys, c.Idle)
	}
	k.Max, k.Idle = c.MaxKeys, c.Idle
	return k
}

// Late is how many events arrived behind the watermark and were ignored.
func (d *Detector) Late() int { return d.s.Late }

// Observe feeds one auth event; other payloads are ignored.
func (d *Detector) Observe(ev stream.Event) []stream.Finding {
	if d.s.Clocks.Observe(ev.Tenant, ev.Time) {
		d.s.Late++
		return nil
	}
	d.s.Events++
	if d.s.Events%expireEvery == 0 {
		wm := d.s.Clocks.KeyWatermark
		d.s.FailUser.ExpireBy(wm)
		d.s.FailIP.ExpireBy(wm)
		d.s.MFA.ExpireBy(wm)
		d.s.Denied.ExpireBy(wm)
		d.s.Users.ExpireBy(wm)
		d.s.Clocks.Forget(d.cfg.Idle)
	}
	switch p := ev.Payload.(type) {
	case schemas.LoginFailed:
		return d.failed(ev, p)
	case schemas.LoginSucceeded:
		return d.succeeded(ev, p)
	case schemas.MFADenied:
		return d.burst(ev, &d.s.MFA, p.User, d.cfg.MFADenied, KindMFAFatigue)
	case schemas.PermissionDenied:
		return d.burst(ev, &d.s.Denied, p.User, d.cfg.Denied, KindPermissionBurst)
	}
	return nil
}

func (d *Detector) burst(ev stream.Event, k *stream.Keyed[stream.Burst], userName string, b Burst, kind string) []stream.Finding {
	st := k.Get(stream.Key(ev.Tenant, userName), ev.Time)
	hits, fire := st.Add(stream.Hit{T: ev.Time, ID: ev.ID}, b.Window, b.Min, d.s.Clocks.Watermark(ev.Tenant))
	if !fire {
		return nil
	}
	return []stream.Finding{d.finding(ev.Tenant, kind, "user", userName, float64(len(hits))/float64(b.Min), hits,
		map[string]string{"count": stream.I(len(hits)), "window": b.Window.String(), "threshold": stream.I(b.Min)})}
}

func (d *Detector) failed(ev stream.Event, p schemas.LoginFailed) []stream.Finding {
	out := d.burst(ev, &d.s.FailUser, p.User, d.cfg.FailedPerUser, KindBruteForceUser)
	for i := range out {
		out[i].Anomaly.Evidence["source_ip"] = p.SourceIP
	}
	c := d.cfg.FailedPerIP
	ip := d.s.FailIP.Get(stream.Key(ev.Tenant, p.SourceIP), ev.Time)
	hits := ip.Fail.Observe(stream.Hit{T: ev.Time, ID: ev.ID, Label: p.User}, c.Window, max(4*c.Min, 4*d.cfg.StuffingUsers, 64), d.s.Clocks.Watermark(ev.Tenant))
	if hits == nil { // duplicate delivery
		return out
	}
	users := stream.Distinct(hits)
	ev2 := map[string]string{"count": stream.I(len(hits)), "distinct_users": stream.I(users), "window": c.Window.String()}
	// Many users from one IP is stuffing; many failures on few users is a
	// brute force from that IP. Each kind has its own incident.
	if ip.Stuff.Check(hits, ev.Time, c.Window, users >= d.cfg.StuffingUsers) {
		out = append(out, d.finding(ev.Tenant, KindCredStuffing, "ip", p.SourceIP,
			float64(users)/float64(d.cfg.StuffingUsers), hits, ev2))
	} else if ip.Fail.Check(hits, ev.Time, c.Window, len(hits) >= c.Min && users < d.cfg.StuffingUsers) {
		out = append(out, d.finding(ev.Tenant, KindBruteForceIP, "ip", p.SourceIP,
			float64(len(hits))/float64(c.Min), hits, ev2))
	}
	return out
}

func (d *Detector) succeeded(ev stream.Event, p schemas.LoginSucceeded) []stream.Finding {
	if p.Geo == nil {
		return nil
	}
	u := d.s.Users.Get(stream.Key(ev.Tenant, p.User), ev.Time)
	var out []stream.Finding
	cur := login{T: ev.Time, ID: ev.ID, IP: p.SourceIP, Country: p.Geo.Country, Lat: p.Geo.Lat, Lon: p.Geo.Lon}
	if slices.ContainsFunc(u.Logins, func(l login) bool { return l.ID == cur.ID && cur.ID != "" }) {
		return nil
	}
	// New country: only once the user has a history, else every first
	// login of every user would be an anomaly.
	if u.Countries == nil {
		u.Countries = map[string]time.Time{}
	}
	if _, seen := u.Countries[cur.Country]; !seen && u.N >= d.cfg.NewCountryWarmup {
		known := make([]string, 0, len(u.Countries))
		for c := range u.Countries {
			known = append(known, c)
		}
		slices.Sort(known)
		out = append(out, d.finding(ev.Tenant, KindNewCountry, "user", p.User, 1, []stream.Hit{{T: ev.Time, ID: ev.ID}},
			map[string]string{"country": cur.Country, "known_countries": fmt.Sprint(known), "logins_before": stream.I(u.N), "source_ip": p.SourceIP}))
	}
	if _, seen := u.Countries[cur.Country]; !seen && len(u.Countries) < 32 {
		u.Countries[cur.Country] = ev.Time
	}
	u.N++

	// Impossible travel: compare with the logins just before and after in
	// event time, so an out-of-order arrival is judged on its true
	// neighbours; each pair is judged once, when its later-arriving member
	// comes in.
	i, _ := slices.BinarySearchFunc(u.Logins, cur.T, func(l login, t time.Time) int { return l.T.Compare(t) })
	if i > 0 {
		out = append(out, d.travel(ev.Tenant, p.User, u.Logins[i-1], cur)...)
	}
	if i < len(u.Logins) {
		out = append(out, d.travel(ev.Tenant, p.User, cur, u.Logins[i])...)
	}
	u.Logins = slices.Insert(u.Logins, i, cur)
	if len(u.Logins) > 8 {
		u.Logins = u.Logins[len(u.Logins)-8:]
	}
	return out
}

func (d *Detector) travel(tenant, userName string, a, b login) []stream.Finding {
	km := haversineKM(a.Lat, a.Lon, b.Lat, b.Lon)
	if km < d.cfg.MinTravelKM {
		return nil
	}
	hours := max(b.T.Sub(a.T).Hours(), 1.0/3600) // same second: as if one second apart
	speed := km / hours
	if speed <= d.cfg.MaxSpeedKMH {
		return nil
	}
	return []stream.Finding{d.finding(tenant, KindImpossibleTrav, "user", userName, min(speed/d.cfg.MaxSpeedKMH, 100),
		[]stream.Hit{{T: a.T, ID: a.ID}, {T: b.T, ID: b.ID}},
		map[string]string{"from_country": a.Country, "to_country": b.Country, "from_ip": a.IP, "to_ip": b.IP,
			"distance_km": stream.F(km), "speed_kmh": stream.F(speed), "elapsed": b.T.Sub(a.T).String()})}
}

func (d *Detector) finding(tenant, kind, etype, eid string, score float64, hits []stream.Hit, ev map[string]string) stream.Finding {
	return stream.NewFinding(tenant, kind, schemas.FamilyAuth, schemas.Entity{Type: etype, ID: eid}, score,
		hits[0].T, hits[len(hits)-1].T, Name, ev, stream.IDs(hits, 50))
}

// ClampClocks restarts the tenant clocks after notAfter; see
// stream.Detector.
func (d *Detector) ClampClocks(notAfter time.Time) []string { return d.s.Clocks.Clamp(notAfter) }

// Snapshot encodes the whole state as JSON.
func (d *Detector) Snapshot() ([]byte, error) { return json.Marshal(&d.s) }

// Restore replaces the state with a snapshot.
func (d *Detector) Restore(data []byte) error {
	var s state
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("authdetect: restore: %w", err)
	}
	d.s = s
	d.reset()
	return nil
}
