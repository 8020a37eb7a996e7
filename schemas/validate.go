package schemas

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"time"
	"unsafe"
)

// Validate checks an envelope and its payload against limits: size first (so
// a huge body is never parsed), then every attribute, then the payload. All
// failures are returned together (errors.Join of *FieldError), each wrapping
// ErrInvalid and a more specific sentinel.
//
// now is the reference for the clock-skew window; pass the zero time to skip
// that check, e.g. when replaying history. limits should already have passed
// Limits.Validate at startup; invalid limits are reported as a plain error
// (not ErrInvalid) because the event is not at fault.
func Validate(env Envelope, now time.Time, limits Limits) error {
	_, err := validate(env, now, limits, false)
	return err
}

// Decode is the consumer's one call: message metadata and body to a validated
// envelope and its typed payload. It is strict where encoding/json is
// lenient: headers are bounded in number and size (Limits.MaxHeaders,
// MaxHeaderSize), and invalid UTF-8, duplicate member names and member
// names that match a field only ignoring case are refused (see checkJSON),
// each with an error naming the header or field.
func Decode(md map[string]string, body []byte, now time.Time, limits Limits) (Envelope, Payload, error) {
	return decode(md, "", body, now, limits, false)
}

// DecodeWithID is Decode of md with MetaID set to id when md's is empty
// and id is not, without copying md: both transports carry the event id
// as the message's UUID rather than in its metadata (bus.EventMetadata).
//
// It is for a consumer that keeps the payload briefly, as ingest does
// until its row is inserted: the payload's strings may share one copy of
// a small body (up to 1 KiB), one allocation instead of one per string,
// so a string kept for long keeps that whole copy alive. A consumer that
// keeps payload strings in long-lived state (a detector's keys) should
// use Decode.
func DecodeWithID(md map[string]string, id string, body []byte, now time.Time, limits Limits) (Envelope, Payload, error) {
	return decode(md, id, body, now, limits, true)
}

func decode(md map[string]string, id string, body []byte, now time.Time, limits Limits, share bool) (Envelope, Payload, error) {
	if md[MetaID] != "" {
		id = ""
	}
	if err := checkHeaders(md, id, limits); err != nil {
		return Envelope{}, nil, err
	}
	env, err := EnvelopeFromMetadata(md, body)
	if err != nil {
		return Envelope{}, nil, err
	}
	if id != "" {
		env.ID = id
	}
	p, err := validate(env, now, limits, share)
	if err != nil {
		return env, nil, err
	}
	return env, p, nil
}

func validate(env Envelope, now time.Time, limits Limits, share bool) (Payload, error) {
	if err := limits.Validate(); err != nil {
		return nil, fmt.Errorf("validate event: %w", err)
	}
	c := newChecker("envelope", limits)
	if size := env.size(); size > limits.MaxEventSize {
		c.fail("data", "", ErrTooLarge, "makes the event %d bytes, more than the limit of %d", size, limits.MaxEventSize)
		return nil, c.err()
	}
	checkEnvelope(c, env, now)
	if isNull(env.Data) {
		c.fail("data", "", ErrInvalid, "is required")
		return nil, c.err()
	}
	if c.reported("type") || c.reported("schemaversion") {
		// Without them there is no payload type to decode, and decoding
		// would report the same field a second time.
		return nil, c.err()
	}
	p, err := env.decodeData(share)
	if err != nil {
		return nil, errors.Join(c.err(), err)
	}
	if err := validatePayload(p, limits); err != nil {
		return nil, errors.Join(c.err(), err)
	}
	if err := c.err(); err != nil {
		return nil, err
	}
	return p, nil
}

// size approximates the encoded size: body plus attribute values, which is
// what counts against broker message limits in binary mode.
func (e Envelope) size() int {
	n := len(e.Data) + len(e.ID) + len(e.Source) + len(e.Type) + len(e.SpecVersion) +
		len(e.Subject) + len(e.DataContentType) + len(e.Tenant) + len(e.PartitionKey) +
		len(e.SchemaVersion) + len(e.TraceParent)
	if !e.Time.IsZero() {
		n += len(time.RFC3339Nano)
	}
	return n
}

func isNull(data []byte) bool {
	d := bytes.TrimSpace(data)
	return len(d) == 0 || bytes.Equal(d, []byte("null"))
}

// envelopeFields are the attributes' rules, from Envelope's `check` tags.
var envelopeFields = mustPlan(reflect.TypeFor[Envelope]())

// envelopeKinds are the sentinels of attributes whose failures say more than
// ErrInvalid: a consumer may route unknown types and versions differently.
var envelopeKinds = map[string]error{
	"type":          ErrUnknownType,
	"specversion":   ErrUnsupportedVersion,
	"schemaversion": ErrUnsupportedVersion,
}

func checkEnvelope(c *checker, env Envelope, now time.Time) {
	c.kinds = envelopeKinds
	c.fields(envelopeFields, unsafe.Pointer(&env))
	c.kinds = nil
	checkTime(c, env.Time, now)
}

// checkTime applies the clock-skew window, which no document can state:
// it depends on the reader's clock.
func checkTime(c *checker, t, now time.Time) {
	if t.IsZero() || now.IsZero() {
		return
	}
	ts := func() string { return t.UTC().Format(time.RFC3339Nano) }
	if t.Before(now.Add(-c.limits.MaxPast)) {
		c.fail("time", ts(), ErrClockSkew, "is more than %s before now (%s)", c.limits.MaxPast, now.UTC().Format(time.RFC3339))
	}
	if t.After(now.Add(c.limits.MaxFuture)) {
		c.fail("time", ts(), ErrClockSkew, "is more than %s after now (%s)", c.limits.MaxFuture, now.UTC().Format(time.RFC3339))
	}
}
