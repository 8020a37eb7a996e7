package sim

import (
	"fmt"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// mfaShare of users have MFA; authEventsPerLogin is the mean number of auth
// events per login arrival under the session mix of login below.
const (
	mfaShare           = 0.3
	authEventsPerLogin = 0.85*(1+mfaShare) + 0.06*2 + 0.05 + 0.04
)

var userAgents = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) Firefox/128.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/605.1.15",
	"tributary-cli/1.4",
}

func (r *run) setupAuth(ti int, t Tenant) {
	users := r.g.world.users[ti]
	r.poisson(t.Rates.Logins, func(at time.Time) { r.login(at, t.Name, users[r.rng.IntN(len(users))]) })
	for _, p := range r.plans(ti, BruteForceUser, CredentialStuffing, ImpossibleTravel, MFAFatigue) {
		r.authAnomaly(t, users, p)
	}
}

func origin(u user, ua string) schemas.AuthOrigin {
	g := u.geo
	return schemas.AuthOrigin{User: u.name, SourceIP: u.ip, UserAgent: ua, Geo: &g}
}

// login is one ordinary session step of a user from home.
func (r *run) login(at time.Time, tenant string, u user) {
	o := origin(u, userAgents[r.rng.IntN(len(userAgents))])
	trace := r.trace()
	switch x := r.rng.Float64(); {
	case x < 0.85:
		if u.mfa {
			r.emit(at, tenant, schemas.MFAApproved{AuthOrigin: o, Factor: schemas.FactorTOTP}, trace)
			r.later(at.Add(300*time.Millisecond), tenant, schemas.LoginSucceeded{AuthOrigin: o, Method: schemas.MethodMFA}, trace)
			return
		}
		r.emit(at, tenant, schemas.LoginSucceeded{AuthOrigin: o, Method: schemas.MethodPassword}, trace)
	case x < 0.91: // a typo, then success
		r.emit(at, tenant, schemas.LoginFailed{AuthOrigin: o, Method: schemas.MethodPassword, Reason: schemas.ReasonBadCredentials}, trace)
		r.later(at.Add(2*time.Second), tenant, schemas.LoginSucceeded{AuthOrigin: o, Method: schemas.MethodPassword}, trace)
	case x < 0.96:
		r.emit(at, tenant, schemas.Logout{User: u.name, SourceIP: u.ip}, trace)
	default:
		r.emit(at, tenant, schemas.TokenRefreshed{User: u.name, TokenID: fmt.Sprintf("tok-%016x", r.rng.Uint64()),
			PreviousTokenID: fmt.Sprintf("tok-%016x", r.rng.Uint64()), ExpiresAt: at.Add(time.Hour)}, trace)
	}
}

func (r *run) authAnomaly(t Tenant, users []user, p *plan) {
	u := users[p.user]
	attacker := schemas.AuthOrigin{User: u.name, SourceIP: p.ip, UserAgent: "python-requests/2.32"}
	interval := time.Duration(float64(time.Second) / max(p.Rate, 1e-9))
	switch p.Kind {
	case BruteForceUser:
		r.every(interval, p.start, p.end, func(at time.Time) {
			r.emit(at, t.Name, schemas.LoginFailed{AuthOrigin: attacker, Method: schemas.MethodPassword,
				Reason: schemas.ReasonBadCredentials}, "")
		})
	case CredentialStuffing:
		r.every(interval, p.start, p.end, func(at time.Time) {
			o := attacker
			reason := schemas.ReasonUnknownUser
			if r.rng.Float64() < 0.3 {
				o.User, reason = users[r.rng.IntN(len(users))].name, schemas.ReasonBadCredentials
			} else {
				o.User = fmt.Sprintf("guess-%06x", r.rng.Uint32()&0xffffff)
			}
			r.emit(at, t.Name, schemas.LoginFailed{AuthOrigin: o, Method: schemas.MethodPassword, Reason: reason}, "")
		})
	case ImpossibleTravel:
		r.at(p.start, func(at time.Time) {
			r.emit(at, t.Name, schemas.LoginSucceeded{AuthOrigin: origin(u, userAgents[0]), Method: schemas.MethodPassword}, "")
		})
		far := origin(u, userAgents[0])
		far.SourceIP, far.Geo = p.ip, &schemas.Geo{Country: p.far.code, Lat: p.far.lat, Lon: p.far.lon}
		// At the end of the window minus a hair, so the pair lies inside it.
		r.later(p.end.Add(-time.Millisecond), t.Name, schemas.LoginSucceeded{AuthOrigin: far, Method: schemas.MethodPassword}, "")
	case MFAFatigue:
		r.every(interval, p.start, p.end.Add(-interval), func(at time.Time) {
			r.emit(at, t.Name, schemas.MFADenied{AuthOrigin: attacker, Factor: schemas.FactorPush, Reason: "user_rejected"}, "")
		})
		// The worn-down user finally approves, and the attacker is in.
		done := p.end.Add(-time.Millisecond)
		r.later(done, t.Name, schemas.MFAApproved{AuthOrigin: attacker, Factor: schemas.FactorPush}, "")
		r.later(done, t.Name, schemas.LoginSucceeded{AuthOrigin: attacker, Method: schemas.MethodMFA}, "")
	}
}
