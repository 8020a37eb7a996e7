package schemas

import (
	"regexp"
	"time"
)

// Auth event types.
const (
	TypeLoginSucceeded   = "io.tributary.auth.login.succeeded"
	TypeLoginFailed      = "io.tributary.auth.login.failed"
	TypeLogout           = "io.tributary.auth.logout"
	TypeTokenIssued      = "io.tributary.auth.token.issued"
	TypeTokenRefreshed   = "io.tributary.auth.token.refreshed"
	TypeTokenRevoked     = "io.tributary.auth.token.revoked"
	TypeMFAApproved      = "io.tributary.auth.mfa.approved"
	TypeMFADenied        = "io.tributary.auth.mfa.denied"
	TypePasswordReset    = "io.tributary.auth.password.reset"
	TypeAccountLocked    = "io.tributary.auth.account.locked"
	TypePermissionDenied = "io.tributary.auth.permission.denied"
)

// AuthMethod is how a user authenticated.
type AuthMethod string

const (
	MethodPassword AuthMethod = "password"
	MethodOAuth    AuthMethod = "oauth"
	MethodMFA      AuthMethod = "mfa"
)

var authMethods = []string{string(MethodPassword), string(MethodOAuth), string(MethodMFA)}

// LoginFailureReason says why a login was refused; detectors count these.
type LoginFailureReason string

const (
	ReasonBadCredentials  LoginFailureReason = "bad_credentials"
	ReasonUnknownUser     LoginFailureReason = "unknown_user"
	ReasonAccountLocked   LoginFailureReason = "account_locked"
	ReasonMFAFailed       LoginFailureReason = "mfa_failed"
	ReasonPasswordExpired LoginFailureReason = "password_expired"
	ReasonRateLimited     LoginFailureReason = "rate_limited"
)

var loginFailureReasons = []string{
	string(ReasonBadCredentials), string(ReasonUnknownUser), string(ReasonAccountLocked),
	string(ReasonMFAFailed), string(ReasonPasswordExpired), string(ReasonRateLimited),
}

// MFAFactor is the second factor used in a challenge.
type MFAFactor string

const (
	FactorTOTP     MFAFactor = "totp"
	FactorSMS      MFAFactor = "sms"
	FactorPush     MFAFactor = "push"
	FactorWebAuthn MFAFactor = "webauthn"
)

var mfaFactors = []string{string(FactorTOTP), string(FactorSMS), string(FactorPush), string(FactorWebAuthn)}

// Geo is where a source IP was located by the producer's GeoIP lookup.
type Geo struct {
	Country string  `json:"country" jsonschema:"pattern=^[A-Z]{2}$"` // ISO 3166-1 alpha-2
	Lat     float64 `json:"lat" jsonschema:"minimum=-90,maximum=90"`
	Lon     float64 `json:"lon" jsonschema:"minimum=-180,maximum=180"`
}

var countryRE = regexp.MustCompile(`^[A-Z]{2}$`)

func (g *Geo) check(c *checker) {
	if g == nil {
		return
	}
	if c.str("geo.country", g.Country, true) && !countryRE.MatchString(g.Country) {
		c.fail("geo.country", g.Country, ErrInvalid, "is not an ISO 3166-1 alpha-2 code")
	}
	c.between("geo.lat", g.Lat, -90, 90)
	c.between("geo.lon", g.Lon, -180, 180)
}

// AuthOrigin is who tried to authenticate and from where. User is the stable
// user id, or for failures of unknown users the login name that was tried.
type AuthOrigin struct {
	User      string `json:"user"`                 // stable user id; for unknown users the login name tried
	SourceIP  string `json:"source_ip"`            // client IP address, v4 or v6
	UserAgent string `json:"user_agent,omitempty"` // client User-Agent header
	Geo       *Geo   `json:"geo,omitempty"`        // GeoIP location of source_ip, if known
}

func (o AuthOrigin) check(c *checker) {
	c.str("user", o.User, true)
	c.ip("source_ip", o.SourceIP, true)
	c.text("user_agent", o.UserAgent, false)
	o.Geo.check(c)
}

// PartitionKey keeps one user's auth events in order.
func (o AuthOrigin) PartitionKey() string { return o.User }

// LoginSucceeded: a user authenticated.
type LoginSucceeded struct {
	AuthOrigin
	Method    AuthMethod `json:"method" jsonschema:"enum=password,enum=oauth,enum=mfa"`
	SessionID string     `json:"session_id,omitempty"`
}

func (LoginSucceeded) EventType() string { return TypeLoginSucceeded }
func (p LoginSucceeded) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p LoginSucceeded) check(c *checker) {
	p.AuthOrigin.check(c)
	c.enum("method", string(p.Method), authMethods...)
	c.str("session_id", p.SessionID, false)
}

// LoginFailed: a login attempt was refused.
type LoginFailed struct {
	AuthOrigin
	Method AuthMethod         `json:"method" jsonschema:"enum=password,enum=oauth,enum=mfa"`
	Reason LoginFailureReason `json:"reason" jsonschema:"enum=bad_credentials,enum=unknown_user,enum=account_locked,enum=mfa_failed,enum=password_expired,enum=rate_limited"`
}

func (LoginFailed) EventType() string { return TypeLoginFailed }
func (p LoginFailed) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p LoginFailed) check(c *checker) {
	p.AuthOrigin.check(c)
	c.enum("method", string(p.Method), authMethods...)
	c.enum("reason", string(p.Reason), loginFailureReasons...)
}

// Logout: a session ended. SourceIP is optional because sessions also end by
// expiry, with no client involved.
type Logout struct {
	User      string `json:"user"`
	SessionID string `json:"session_id,omitempty"`
	SourceIP  string `json:"source_ip,omitempty"`
}

func (Logout) EventType() string      { return TypeLogout }
func (p Logout) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p Logout) PartitionKey() string { return p.User }
func (p Logout) check(c *checker) {
	c.str("user", p.User, true)
	c.str("session_id", p.SessionID, false)
	c.ip("source_ip", p.SourceIP, false)
}

// TokenIssued: an access token was minted. TokenID is the JWT "jti".
type TokenIssued struct {
	User      string    `json:"user"`
	TokenID   string    `json:"token_id"` // JWT "jti"
	ExpiresAt time.Time `json:"expires_at"`
	ClientID  string    `json:"client_id,omitempty"`
	Scopes    []string  `json:"scopes,omitempty"`
}

func (TokenIssued) EventType() string      { return TypeTokenIssued }
func (p TokenIssued) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p TokenIssued) PartitionKey() string { return p.User }
func (p TokenIssued) check(c *checker) {
	c.str("user", p.User, true)
	c.str("token_id", p.TokenID, true)
	c.timeSet("expires_at", p.ExpiresAt)
	c.str("client_id", p.ClientID, false)
	if c.list("scopes", len(p.Scopes)) {
		for _, s := range p.Scopes {
			c.str("scopes[]", s, true)
		}
	}
}

// TokenRefreshed: a refresh exchanged PreviousTokenID for TokenID.
type TokenRefreshed struct {
	User            string    `json:"user"`
	TokenID         string    `json:"token_id"`
	PreviousTokenID string    `json:"previous_token_id"`
	ExpiresAt       time.Time `json:"expires_at"`
}

func (TokenRefreshed) EventType() string      { return TypeTokenRefreshed }
func (p TokenRefreshed) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p TokenRefreshed) PartitionKey() string { return p.User }
func (p TokenRefreshed) check(c *checker) {
	c.str("user", p.User, true)
	c.str("token_id", p.TokenID, true)
	c.str("previous_token_id", p.PreviousTokenID, true)
	c.timeSet("expires_at", p.ExpiresAt)
}

// TokenRevoked: a token was invalidated before its expiry.
type TokenRevoked struct {
	User      string    `json:"user"`
	TokenID   string    `json:"token_id"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

func (TokenRevoked) EventType() string      { return TypeTokenRevoked }
func (p TokenRevoked) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p TokenRevoked) PartitionKey() string { return p.User }
func (p TokenRevoked) check(c *checker) {
	c.str("user", p.User, true)
	c.str("token_id", p.TokenID, true)
	c.str("reason", p.Reason, false)
}

// MFAApproved: a second-factor challenge succeeded.
type MFAApproved struct {
	AuthOrigin
	Factor MFAFactor `json:"factor" jsonschema:"enum=totp,enum=sms,enum=push,enum=webauthn"`
}

func (MFAApproved) EventType() string { return TypeMFAApproved }
func (p MFAApproved) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p MFAApproved) check(c *checker) {
	p.AuthOrigin.check(c)
	c.enum("factor", string(p.Factor), mfaFactors...)
}

// MFADenied: a second-factor challenge failed or was rejected by the user
// (push fatigue attacks show up as bursts of these).
type MFADenied struct {
	AuthOrigin
	Factor MFAFactor `json:"factor" jsonschema:"enum=totp,enum=sms,enum=push,enum=webauthn"`
	Reason string    `json:"reason,omitempty"`
}

func (MFADenied) EventType() string { return TypeMFADenied }
func (p MFADenied) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p MFADenied) check(c *checker) {
	p.AuthOrigin.check(c)
	c.enum("factor", string(p.Factor), mfaFactors...)
	c.str("reason", p.Reason, false)
}

// PasswordReset: a user's password was changed through the reset flow.
type PasswordReset struct {
	User        string `json:"user"`
	InitiatedBy string `json:"initiated_by" jsonschema:"enum=user,enum=admin"`
	SourceIP    string `json:"source_ip,omitempty"`
}

func (PasswordReset) EventType() string      { return TypePasswordReset }
func (p PasswordReset) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p PasswordReset) PartitionKey() string { return p.User }
func (p PasswordReset) check(c *checker) {
	c.str("user", p.User, true)
	c.enum("initiated_by", p.InitiatedBy, "user", "admin")
	c.ip("source_ip", p.SourceIP, false)
}

// AccountLocked: an account was locked, typically after repeated failures.
// A zero LockedUntil means locked until an administrator unlocks it.
type AccountLocked struct {
	User           string    `json:"user"`
	Reason         string    `json:"reason"`
	FailedAttempts int       `json:"failed_attempts,omitempty"`
	LockedUntil    time.Time `json:"locked_until,omitzero"`
}

func (AccountLocked) EventType() string      { return TypeAccountLocked }
func (p AccountLocked) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p AccountLocked) PartitionKey() string { return p.User }
func (p AccountLocked) check(c *checker) {
	c.str("user", p.User, true)
	c.str("reason", p.Reason, true)
	c.nonNegative("failed_attempts", int64(p.FailedAttempts))
}

// PermissionDenied: an authenticated user was refused an action.
type PermissionDenied struct {
	User     string `json:"user"`
	Role     string `json:"role"`
	Resource string `json:"resource"`
	Action   string `json:"action"`
	SourceIP string `json:"source_ip,omitempty"`
}

func (PermissionDenied) EventType() string      { return TypePermissionDenied }
func (p PermissionDenied) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p PermissionDenied) PartitionKey() string { return p.User }
func (p PermissionDenied) check(c *checker) {
	c.str("user", p.User, true)
	c.str("role", p.Role, true)
	c.str("resource", p.Resource, true)
	c.str("action", p.Action, true)
	c.ip("source_ip", p.SourceIP, false)
}
