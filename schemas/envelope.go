package schemas

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// SpecVersion is the only CloudEvents version we produce and accept.
const SpecVersion = "1.0"

// ContentTypeJSON is the only data content type we produce and accept.
const ContentTypeJSON = "application/json"

// Envelope is one event: the CloudEvents 1.0 context attributes, our
// extensions, and the JSON payload.
//
// It is a plain struct rather than the CloudEvents Go SDK's event.Event on
// purpose: we carry events as Watermill messages, not through the SDK's
// protocol bindings, so the SDK would only give us an attribute bag with
// untyped extensions (map[string]any) and a large dependency tree that every
// module would inherit. The wire mapping the SDK would do for us is eleven
// constants in metadata.go. The JSON tags below are the CloudEvents JSON
// (structured mode) attribute names, so the two representations agree.
//
// The `check` tags are the attributes' rules (see internal/rules), read by
// the validator and written into jsonschema/envelope.json. The type's
// registration, the schema version's value and the clock-skew window are
// checked in validate.go.
type Envelope struct {
	ID              string    `json:"id" check:"required,uuid7"`              // UUIDv7, canonical lower-case form
	Source          string    `json:"source" check:"required,uri"`            // URI-reference of the producer, e.g. "//tributary/auth-service"
	Type            string    `json:"type" check:"required"`                  // "io.tributary.<family>.<name>"
	SpecVersion     string    `json:"specversion" check:"required,const=1.0"` // "1.0"
	Time            time.Time `json:"time,omitzero" check:"required"`         // RFC 3339; consumers reject times far from their clock
	Subject         string    `json:"subject,omitempty"`
	DataContentType string    `json:"datacontenttype,omitempty" check:"jsonmedia"` // empty means application/json (CloudEvents default)

	// Extensions.

	Tenant        string `json:"tenant,omitempty" check:"required,token"` // owner of the event; one subject token
	PartitionKey  string `json:"partitionkey,omitempty"`
	SchemaVersion string `json:"schemaversion,omitempty" check:"required"`  // the payload's schema version, "1"
	TraceParent   string `json:"traceparent,omitempty" check:"traceparent"` // W3C trace context

	// Data is the payload JSON; in binary mode it is the message body.
	Data json.RawMessage `json:"data,omitempty" check:"required"`
}

// Option adjusts NewEvent for the rare cases the defaults do not fit.
type Option func(*eventOptions)

type eventOptions struct {
	id, subject, traceParent, partitionKey string
	time                                   time.Time
	limits                                 Limits
}

// WithTime sets the event time instead of now, e.g. for a log record's
// original timestamp.
func WithTime(t time.Time) Option { return func(o *eventOptions) { o.time = t } }

// WithID sets the event id instead of a fresh UUIDv7, for re-publishing an
// event idempotently.
func WithID(id string) Option { return func(o *eventOptions) { o.id = id } }

// WithSubject sets the CloudEvents subject attribute.
func WithSubject(s string) Option { return func(o *eventOptions) { o.subject = s } }

// WithTraceParent propagates a W3C traceparent header value.
func WithTraceParent(tp string) Option { return func(o *eventOptions) { o.traceParent = tp } }

// WithPartitionKey overrides the payload's natural partition key.
func WithPartitionKey(k string) Option { return func(o *eventOptions) { o.partitionKey = k } }

// WithLimits validates the new event against l instead of DefaultLimits.
func WithLimits(l Limits) Option { return func(o *eventOptions) { o.limits = l } }

// NewEvent wraps a payload in an envelope, stamping id (UUIDv7), time,
// specversion, type, schemaversion and partition key (the payload's natural
// key, else the tenant), and validates the result. Source and tenant are
// parameters rather than options because every event needs them.
//
// The event time is not checked against the clock-skew window here: the
// producer's clock is the reference for its own events; consumers check.
func NewEvent(source, tenant string, p Payload, opts ...Option) (Envelope, error) {
	o := eventOptions{limits: DefaultLimits()}
	for _, opt := range opts {
		opt(&o)
	}
	if p == nil {
		return Envelope{}, fmt.Errorf("new event: nil payload: %w", ErrInvalid)
	}
	info, ok := Lookup(p.EventType())
	if !ok {
		return Envelope{}, fmt.Errorf("new event: type %q: %w", p.EventType(), ErrUnknownType)
	}
	if o.id == "" {
		id, err := uuid.NewV7()
		if err != nil {
			return Envelope{}, fmt.Errorf("new event: generate id: %w", err)
		}
		o.id = id.String()
	}
	if o.time.IsZero() {
		o.time = time.Now()
	}
	data, err := json.Marshal(p)
	if err != nil {
		return Envelope{}, fmt.Errorf("new event %s: marshal payload: %w: %w", info.Short(), ErrMalformed, err)
	}
	key := o.partitionKey
	if k, ok := p.(Keyed); ok && key == "" {
		key = k.PartitionKey()
	}
	if key == "" {
		key = tenant
	}
	env := Envelope{
		ID:              o.id,
		Source:          source,
		Type:            info.Type,
		SpecVersion:     SpecVersion,
		Time:            o.time.UTC(),
		Subject:         o.subject,
		DataContentType: ContentTypeJSON,
		Tenant:          tenant,
		PartitionKey:    key,
		SchemaVersion:   info.SchemaVersion,
		TraceParent:     o.traceParent,
		Data:            data,
	}
	if _, err := validate(env, time.Time{}, o.limits, false); err != nil {
		return Envelope{}, fmt.Errorf("new event: %w", err)
	}
	return env, nil
}

// DecodeData decodes the payload into its registered Go type (a value, not a
// pointer). It does not validate the payload: use Validate or Decode for
// events from outside the process.
func (e Envelope) DecodeData() (Payload, error) {
	p, err := e.decodeData(false)
	if err != nil {
		return nil, err
	}
	return p, nil
}

// decodeData decodes the payload; with share, its strings may share one
// copy of a small body (see fastDecoder.text).
func (e Envelope) decodeData(share bool) (Payload, error) {
	info, ok := Lookup(e.Type)
	if !ok {
		return nil, &FieldError{Scope: "envelope", Field: "type", Value: e.Type,
			Reason: "has no registered payload; " + knownTypes(e.Type), Kind: ErrUnknownType}
	}
	if e.SchemaVersion != info.SchemaVersion {
		return nil, &FieldError{Scope: "envelope", Field: "schemaversion", Value: e.SchemaVersion,
			Reason: fmt.Sprintf("is not supported for %s (want %q)", info.Short(), info.SchemaVersion),
			Kind:   ErrUnsupportedVersion}
	}
	if p, ok := info.fast(e.Data, share); ok {
		return p, nil
	}
	p, err := info.decode(e.Data)
	if err != nil {
		field := memberOf(e.Data, info.GoType, info.fields, "")
		if field == "" {
			field = "data"
		}
		return nil, &FieldError{Scope: info.Short(), Field: field,
			Reason: "does not decode: " + err.Error(), Kind: ErrMalformed}
	}
	if fe := checkJSON(e.Data, info.fields); fe != nil {
		fe.Scope = info.Short()
		return nil, fe
	}
	return p, nil
}

// knownTypes lists the registered types a writer of t may have meant: its
// family's when the family exists, else every one.
func knownTypes(t string) string {
	fam := FamilyOf(t)
	var names []string
	for _, info := range Types() {
		if fam == FamilyUnknown || info.Family == fam {
			names = append(names, info.Type)
		}
	}
	if fam != FamilyUnknown {
		return fmt.Sprintf("%s types are %s", fam, strings.Join(names, ", "))
	}
	return "known types are " + strings.Join(names, ", ")
}
