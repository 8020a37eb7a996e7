package ingest

import (
	"fmt"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/infra/clickhouse"
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

// AuthRow is an auth_events row as its typed columns, for the batch
// writer's column appends (clickhouse.TypedRow). Values is AuthValues's row.
type AuthRow struct {
	ID                            uuid.UUID
	Type, Tenant, Source, Subject string
	authRow
	TraceParent           string
	EventTime, IngestTime time.Time
}

// AuthValues maps an auth event to auth_events values. The outcome column
// lets analysts count failures of every kind (logins, MFA, permissions)
// without listing event types.
func AuthValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	r, err := authRowOf(env, p, ingest)
	if err != nil {
		return nil, err
	}
	return r.Values(), nil
}

// AuthTyped maps an auth event to its typed auth_events row, the same row
// as AuthValues.
func AuthTyped(env schemas.Envelope, p schemas.Payload, ingest time.Time) (clickhouse.TypedRow, error) {
	r, err := authRowOf(env, p, ingest)
	if err != nil {
		return nil, err
	}
	return r, nil
}

func authRowOf(env schemas.Envelope, p schemas.Payload, ingest time.Time) (*AuthRow, error) {
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
	return &AuthRow{ID: id, Type: env.Type, Tenant: env.Tenant, Source: env.Source, Subject: env.Subject, authRow: r,
		TraceParent: env.TraceParent, EventTime: env.Time.UTC(), IngestTime: ingest.UTC()}, nil
}

// Values is the row in AuthColumns order.
func (r *AuthRow) Values() []any {
	return []any{
		r.ID, r.Type, r.Tenant, r.Source, r.Subject, r.user, r.sourceIP, r.userAgent,
		r.country, r.lat, r.lon, r.method, r.outcome, r.reason, r.role, r.resource,
		r.action, r.TraceParent, r.EventTime, r.IngestTime,
	}
}

// authColumns are the typed column slices of one batch, reused.
type authColumns struct {
	ids    []uuid.UUID
	strs   [15][]string // the String columns, in AuthColumns order
	floats [2][]*float64
	times  [2][]time.Time
}

var authColumnsPool = sync.Pool{New: func() any { return new(authColumns) }}

// AppendColumns appends rows, all *AuthRow, in AuthColumns order.
func (*AuthRow) AppendColumns(b driver.Batch, rows []clickhouse.TypedRow) error {
	c := authColumnsPool.Get().(*authColumns)
	defer func() {
		for i := range c.strs {
			clear(c.strs[i]) // so that pooled slices keep no event alive
			c.strs[i] = c.strs[i][:0]
		}
		clear(c.floats[0])
		clear(c.floats[1])
		c.ids, c.floats[0], c.floats[1], c.times[0], c.times[1] = c.ids[:0], c.floats[0][:0], c.floats[1][:0], c.times[0][:0], c.times[1][:0]
		authColumnsPool.Put(c)
	}()
	for _, tr := range rows {
		r := tr.(*AuthRow)
		c.ids = append(c.ids, r.ID)
		for i, s := range [...]string{r.Type, r.Tenant, r.Source, r.Subject, r.user, r.sourceIP, r.userAgent, r.country,
			r.method, r.outcome, r.reason, r.role, r.resource, r.action, r.TraceParent} {
			c.strs[i] = append(c.strs[i], s)
		}
		c.floats[0] = append(c.floats[0], r.lat)
		c.floats[1] = append(c.floats[1], r.lon)
		c.times[0] = append(c.times[0], r.EventTime)
		c.times[1] = append(c.times[1], r.IngestTime)
	}
	s := c.strs
	return appendColumns(b, AuthColumns, c.ids, s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7], c.floats[0], c.floats[1],
		s[8], s[9], s[10], s[11], s[12], s[13], s[14], c.times[0], c.times[1])
}
