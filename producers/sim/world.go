package sim

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/tributary-io/tributary/schemas"
)

// country is where a user lives or an attacker sits, for GeoIP fields.
type country struct {
	code     string
	lat, lon float64
}

var countries = []country{
	{"US", 38, -97}, {"DE", 51, 10}, {"GB", 54, -2}, {"FR", 46, 2}, {"JP", 36, 138},
	{"BR", -10, -55}, {"AU", -25, 133}, {"IN", 21, 78}, {"CA", 56, -106}, {"SG", 1.35, 103.8},
}

// user is a simulated account: where it normally logs in from.
type user struct {
	name string
	ip   string
	geo  schemas.Geo
	mfa  bool
}

// world is everything derived from the scenario and seed before any event:
// users with their home addresses, per tenant. It is read-only once built.
type world struct {
	users [][]user // by tenant index
}

// homeIP spreads users over 100.64.0.0/10 (shared address space): tenant
// i gets 100.(64+i).x.y, so addresses are stable and never collide.
func homeIP(tenant, u int) string {
	return fmt.Sprintf("100.%d.%d.%d", 64+tenant, u/250, u%250+1)
}

func newWorld(sc Scenario, rng *rand.Rand) world {
	w := world{users: make([][]user, len(sc.Tenants))}
	for ti, t := range sc.Tenants {
		us := make([]user, t.Users)
		for i := range us {
			c := countries[rng.IntN(len(countries))]
			us[i] = user{name: userName(t.Name, i), ip: homeIP(ti, i), mfa: rng.Float64() < mfaShare,
				geo: schemas.Geo{Country: c.code, Lat: c.lat + rng.Float64() - 0.5, Lon: c.lon + rng.Float64() - 0.5}}
		}
		w.users[ti] = us
	}
	return w
}

// farthest is the country farthest from g: the second login of an
// impossible trip.
func farthest(g schemas.Geo) country {
	best, bestD := countries[0], -1.0
	for _, c := range countries {
		if d := distanceKM(g.Lat, g.Lon, c.lat, c.lon); d > bestD {
			best, bestD = c, d
		}
	}
	return best
}

// distanceKM is the great-circle (haversine) distance.
func distanceKM(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dlat, dlon := (lat2-lat1)*rad, (lon2-lon1)*rad
	a := math.Sin(dlat/2)*math.Sin(dlat/2) + math.Cos(lat1*rad)*math.Cos(lat2*rad)*math.Sin(dlon/2)*math.Sin(dlon/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// attackerIP is in TEST-NET-3 (203.0.113.0/24), which no real user has.
func attackerIP(rng *rand.Rand) string { return fmt.Sprintf("203.0.113.%d", 1+rng.IntN(254)) }
