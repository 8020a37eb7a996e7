package schemas

import (
	"errors"
	"fmt"
	"strconv"
)

// ErrInvalid is the root of every contract violation. The more specific
// sentinels below wrap it, so errors.Is(err, ErrInvalid) answers the only
// question a consumer's poison filter has: will a retry ever help? (No.)
var ErrInvalid = errors.New("invalid event")

var (
	// ErrMalformed: the body or an attribute cannot be parsed at all.
	ErrMalformed = fmt.Errorf("%w: malformed", ErrInvalid)
	// ErrTooLarge: the event or one of its fields exceeds a Limits bound.
	ErrTooLarge = fmt.Errorf("%w: too large", ErrInvalid)
	// ErrUnknownType: no payload is registered for the event type.
	ErrUnknownType = fmt.Errorf("%w: unknown event type", ErrInvalid)
	// ErrUnsupportedVersion: specversion or schemaversion is not one this
	// build can read.
	ErrUnsupportedVersion = fmt.Errorf("%w: unsupported version", ErrInvalid)
	// ErrClockSkew: the event time is outside the accepted window around now.
	ErrClockSkew = fmt.Errorf("%w: event time outside accepted window", ErrInvalid)
	// ErrTenantMismatch: the event's tenant is not the one its subject or
	// topic was published under (a producer writing as another tenant).
	ErrTenantMismatch = fmt.Errorf("%w: tenant_mismatch", ErrInvalid)
)

// FieldError reports one bad field. It is a type (not just a message) because
// dead-letter handlers attach Scope and Field to the poisoned message's
// headers so an operator can see what to fix without parsing strings.
type FieldError struct {
	Scope  string // "envelope" or the short event type, e.g. "auth.login.failed"
	Field  string // JSON name or path, e.g. "geo.lat", `labels["env"]`
	Value  string // the offending value, truncated; empty when missing
	Reason string // what is wrong, e.g. "is not an IP address"
	Kind   error  // the sentinel this error matches with errors.Is
}

// maxQuotedValue keeps error messages (which end up in logs and headers)
// bounded even when the bad value is a megabyte string.
const maxQuotedValue = 64

func (e *FieldError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("%s: field %q %s", e.Scope, e.Field, e.Reason)
	}
	return fmt.Sprintf("%s: field %q: %s %s", e.Scope, e.Field, quoteValue(e.Value), e.Reason)
}

func (e *FieldError) Unwrap() error {
	if e.Kind == nil {
		return ErrInvalid
	}
	return e.Kind
}

func quoteValue(v string) string {
	if len(v) > maxQuotedValue {
		// Cut on a byte boundary is fine: strconv.Quote escapes any broken rune.
		return strconv.Quote(v[:maxQuotedValue]) + "…"
	}
	return strconv.Quote(v)
}
