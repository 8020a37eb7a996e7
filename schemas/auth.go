package schemas

import "time"

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

// EnumValues lists the methods the contract accepts; the validator and the
// JSON Schema documents both read it.
func (AuthMethod) EnumValues() []string {
	return []string{string(MethodPassword), string(MethodOAuth), string(MethodMFA)}
}

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

// EnumValues lists the reasons the contract accepts.
func (LoginFailureReason) EnumValues() []string {
	return []string{
		string(ReasonBadCredentials), string(ReasonUnknownUser), string(ReasonAccountLocked),
		string(ReasonMFAFailed), string(ReasonPasswordExpired), string(ReasonRateLimited),
	}
}

// MFAFactor is the second factor used in a challenge.
type MFAFactor string

const (
	FactorTOTP     MFAFactor = "totp"
	FactorSMS      MFAFactor = "sms"
	FactorPush     MFAFactor = "push"
	FactorWebAuthn MFAFactor = "webauthn"
)

// EnumValues lists the factors the contract accepts.
func (MFAFactor) EnumValues() []string {
	return []string{string(FactorTOTP), string(FactorSMS), string(FactorPush), string(FactorWebAuthn)}
}

// Geo is where a source IP was located by the producer's GeoIP lookup.
type Geo struct {
	Country string  `json:"country" check:"required,country"` // ISO 3166-1 alpha-2
	Lat     float64 `json:"lat" check:"min=-90,max=90"`
	Lon     float64 `json:"lon" check:"min=-180,max=180"`
}

// AuthOrigin is who tried to authenticate and from where. User is the stable
// user id, or for failures of unknown users the login name that was tried.
type AuthOrigin struct {
	User      string `json:"user" check:"required"`             // stable user id; for unknown users the login name tried
	SourceIP  string `json:"source_ip" check:"required,ip"`     // client IP address, v4 or v6
	UserAgent string `json:"user_agent,omitempty" check:"text"` // client User-Agent header
	Geo       *Geo   `json:"geo,omitempty"`                     // GeoIP location of source_ip, if known
}

// PartitionKey keeps one user's auth events in order.
func (o AuthOrigin) PartitionKey() string { return o.User }

// LoginSucceeded: a user authenticated.
type LoginSucceeded struct {
	AuthOrigin
	Method    AuthMethod `json:"method" check:"required"`
	SessionID string     `json:"session_id,omitempty"`
}

func (LoginSucceeded) EventType() string { return TypeLoginSucceeded }
func (p LoginSucceeded) Validate() error { return validatePayload(p, DefaultLimits()) }

// LoginFailed: a login attempt was refused.
type LoginFailed struct {
	AuthOrigin
	Method AuthMethod         `json:"method" check:"required"`
	Reason LoginFailureReason `json:"reason" check:"required"`
}

func (LoginFailed) EventType() string { return TypeLoginFailed }
func (p LoginFailed) Validate() error { return validatePayload(p, DefaultLimits()) }

// Logout: a session ended. SourceIP is optional because sessions also end by
// expiry, with no client involved.
type Logout struct {
	User      string `json:"user" check:"required"`
	SessionID string `json:"session_id,omitempty"`
	SourceIP  string `json:"source_ip,omitempty" check:"ip"`
}

func (Logout) EventType() string      { return TypeLogout }
func (p Logout) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p Logout) PartitionKey() string { return p.User }

// TokenIssued: an access token was minted. TokenID is the JWT "jti".
type TokenIssued struct {
	User      string    `json:"user" check:"required"`
	TokenID   string    `json:"token_id" check:"required"` // JWT "jti"
	ExpiresAt time.Time `json:"expires_at" check:"required"`
	ClientID  string    `json:"client_id,omitempty"`
	Scopes    []string  `json:"scopes,omitempty" check:"required"`
}

func (TokenIssued) EventType() string      { return TypeTokenIssued }
func (p TokenIssued) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p TokenIssued) PartitionKey() string { return p.User }

// TokenRefreshed: a refresh exchanged PreviousTokenID for TokenID.
type TokenRefreshed struct {
	User            string    `json:"user" check:"required"`
	TokenID         string    `json:"token_id" check:"required"`
	PreviousTokenID string    `json:"previous_token_id" check:"required"`
	ExpiresAt       time.Time `json:"expires_at" check:"required"`
}

func (TokenRefreshed) EventType() string      { return TypeTokenRefreshed }
func (p TokenRefreshed) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p TokenRefreshed) PartitionKey() string { return p.User }

// TokenRevoked: a token was invalidated before its expiry.
type TokenRevoked struct {
	User      string    `json:"user" check:"required"`
	TokenID   string    `json:"token_id" check:"required"`
	ExpiresAt time.Time `json:"expires_at,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

func (TokenRevoked) EventType() string      { return TypeTokenRevoked }
func (p TokenRevoked) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p TokenRevoked) PartitionKey() string { return p.User }

// MFAApproved: a second-factor challenge succeeded.
type MFAApproved struct {
	AuthOrigin
	Factor MFAFactor `json:"factor" check:"required"`
}

func (MFAApproved) EventType() string { return TypeMFAApproved }
func (p MFAApproved) Validate() error { return validatePayload(p, DefaultLimits()) }

// MFADenied: a second-factor challenge failed or was rejected by the user
// (push fatigue attacks show up as bursts of these).
type MFADenied struct {
	AuthOrigin
	Factor MFAFactor `json:"factor" check:"required"`
	Reason string    `json:"reason,omitempty"`
}

func (MFADenied) EventType() string { return TypeMFADenied }
func (p MFADenied) Validate() error { return validatePayload(p, DefaultLimits()) }

// PasswordReset: a user's password was changed through the reset flow.
type PasswordReset struct {
	User        string `json:"user" check:"required"`
	InitiatedBy string `json:"initiated_by" check:"required,enum=user|admin"`
	SourceIP    string `json:"source_ip,omitempty" check:"ip"`
}

func (PasswordReset) EventType() string      { return TypePasswordReset }
func (p PasswordReset) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p PasswordReset) PartitionKey() string { return p.User }

// AccountLocked: an account was locked, typically after repeated failures.
// A zero LockedUntil means locked until an administrator unlocks it.
type AccountLocked struct {
	User           string    `json:"user" check:"required"`
	Reason         string    `json:"reason" check:"required"`
	FailedAttempts int       `json:"failed_attempts,omitempty" check:"min=0"`
	LockedUntil    time.Time `json:"locked_until,omitzero"`
}

func (AccountLocked) EventType() string      { return TypeAccountLocked }
func (p AccountLocked) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p AccountLocked) PartitionKey() string { return p.User }

// PermissionDenied: an authenticated user was refused an action.
type PermissionDenied struct {
	User     string `json:"user" check:"required"`
	Role     string `json:"role" check:"required"`
	Resource string `json:"resource" check:"required"`
	Action   string `json:"action" check:"required"`
	SourceIP string `json:"source_ip,omitempty" check:"ip"`
}

func (PermissionDenied) EventType() string      { return TypePermissionDenied }
func (p PermissionDenied) Validate() error      { return validatePayload(p, DefaultLimits()) }
func (p PermissionDenied) PartitionKey() string { return p.User }

// authFamily: sign-ins, tokens, MFA and permissions, on JetStream (one
// subject per tenant and type), stored in auth_events, watched by the
// auth detector.
func authFamily() FamilyInfo {
	const table = "auth_events"
	return FamilyInfo{
		Family:   FamilyAuth,
		Route:    &Route{JetStream: &JetStreamTarget{Stream: "AUTH", Subject: "auth.{tenant}.{name}"}},
		Detector: "authdetect",
		Types: []TypeInfo{
			register[LoginSucceeded]("1", table),
			register[LoginFailed]("1", table),
			register[Logout]("1", table),
			register[TokenIssued]("1", table),
			register[TokenRefreshed]("1", table),
			register[TokenRevoked]("1", table),
			register[MFAApproved]("1", table),
			register[MFADenied]("1", table),
			register[PasswordReset]("1", table),
			register[AccountLocked]("1", table),
			register[PermissionDenied]("1", table),
		},
	}
}
