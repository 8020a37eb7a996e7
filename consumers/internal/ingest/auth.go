package ingest

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

// AuthTable and AuthColumns are auth_events as created by infra/clickhouse's
// migrations; Write takes values in this order.
const AuthTable = "auth_events"

var AuthColumns = []string{
	"event_id", "event_type", "tenant", "source", "subject", "user_id", "source_ip", "user_agent",
	"country", "latitude", "longitude", "method", "outcome", "failure_reason", "role", "resource",
	"action", "trace_parent", "event_time", "ingest_time",
}

// authRow is one auth_events row; each payload type fills what it has.
type authRow struct {
	user, sourceIP, userAgent, country, method, outcome, reason, role, resource, action string
	lat, lon                                                                            *float64
}

func (r *authRow) origin(o schemas.AuthOrigin) {
	r.user, r.sourceIP, r.userAgent = o.User, o.SourceIP, o.UserAgent
	if o.Geo != nil {
		r.country = o.Geo.Country
		lat, lon := o.Geo.Lat, o.Geo.Lon
		r.lat, r.lon = &lat, &lon
	}
}

// AuthValues maps an auth event to auth_events values. The outcome column
// lets analysts count failures of every kind (logins, MFA, permissions)
// without listing event types.
func AuthValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	var r authRow
	switch p := p.(type) {
	case schemas.LoginSucceeded:
		r.origin(p.AuthOrigin)
		r.method, r.outcome = string(p.Method), "success"
	case schemas.LoginFailed:
		r.origin(p.AuthOrigin)
		r.method, r.outcome, r.reason = string(p.Method), "failure", string(p.Reason)
	case schemas.Logout:
		r.user, r.sourceIP, r.outcome = p.User, p.SourceIP, "success"
	case schemas.TokenIssued:
		r.user, r.outcome = p.User, "success"
	case schemas.TokenRefreshed:
		r.user, r.outcome = p.User, "success"
	case schemas.TokenRevoked:
		r.user, r.outcome, r.reason = p.User, "success", p.Reason
	case schemas.MFAApproved:
		r.origin(p.AuthOrigin)
		r.method, r.outcome = "mfa", "success"
	case schemas.MFADenied:
		r.origin(p.AuthOrigin)
		r.method, r.outcome, r.reason = "mfa", "failure", p.Reason
	case schemas.PasswordReset:
		r.user, r.sourceIP, r.outcome = p.User, p.SourceIP, "success"
	case schemas.AccountLocked:
		r.user, r.outcome, r.reason = p.User, "failure", p.Reason
	case schemas.PermissionDenied:
		r.user, r.sourceIP, r.outcome = p.User, p.SourceIP, "failure"
		r.role, r.resource, r.action = p.Role, p.Resource, p.Action
	default:
		return nil, fmt.Errorf("auth_events row for %s: %w", env.Type, schemas.ErrUnknownType)
	}
	id, err := uuid.Parse(env.ID)
	if err != nil {
		return nil, fmt.Errorf("auth_events row: field \"id\": %q: %w", env.ID, schemas.ErrInvalid)
	}
	return []any{
		id, env.Type, env.Tenant, env.Source, env.Subject, r.user, r.sourceIP, r.userAgent,
		r.country, r.lat, r.lon, r.method, r.outcome, r.reason, r.role, r.resource,
		r.action, env.TraceParent, env.Time.UTC(), ingest.UTC(),
	}, nil
}
