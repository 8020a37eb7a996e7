package schemas

import (
	"fmt"
	"time"
	"unicode/utf8"
)

// Metadata keys of CloudEvents binary content mode. Watermill metadata maps
// 1:1 to Kafka record headers and NATS message headers, so these are also
// the header names on the wire. The "ce_" prefix is the CloudEvents Kafka
// binding's; "content-type" and "traceparent" are unprefixed because
// brokers, proxies and tracing libraries already know those names.
const (
	MetaID            = "ce_id"
	MetaSource        = "ce_source"
	MetaType          = "ce_type"
	MetaSpecVersion   = "ce_specversion"
	MetaTime          = "ce_time" // RFC 3339 with nanoseconds, UTC
	MetaSubject       = "ce_subject"
	MetaContentType   = "content-type"
	MetaTenant        = "ce_tenant"
	MetaPartitionKey  = "ce_partitionkey"
	MetaSchemaVersion = "ce_schemaversion"
	MetaTraceParent   = "traceparent"
)

// Metadata returns the envelope's attributes as message metadata. Empty
// attributes are left out rather than sent as empty headers.
func (e Envelope) Metadata() map[string]string {
	md := make(map[string]string, 11)
	set := func(k, v string) {
		if v != "" {
			md[k] = v
		}
	}
	set(MetaID, e.ID)
	set(MetaSource, e.Source)
	set(MetaType, e.Type)
	set(MetaSpecVersion, e.SpecVersion)
	if !e.Time.IsZero() {
		md[MetaTime] = e.Time.UTC().Format(time.RFC3339Nano)
	}
	set(MetaSubject, e.Subject)
	set(MetaContentType, e.DataContentType)
	set(MetaTenant, e.Tenant)
	set(MetaPartitionKey, e.PartitionKey)
	set(MetaSchemaVersion, e.SchemaVersion)
	set(MetaTraceParent, e.TraceParent)
	return md
}

// EnvelopeFromMetadata rebuilds an envelope from message metadata and body.
// It fails only when an attribute cannot be parsed (ErrMalformed); missing or
// invalid attributes are Validate's job, so a consumer gets every problem of
// an event in one error. Unknown keys (e.g. Watermill's own) are ignored.
// data is not copied.
func EnvelopeFromMetadata(md map[string]string, data []byte) (Envelope, error) {
	env := Envelope{
		ID:              md[MetaID],
		Source:          md[MetaSource],
		Type:            md[MetaType],
		SpecVersion:     md[MetaSpecVersion],
		Subject:         md[MetaSubject],
		DataContentType: md[MetaContentType],
		Tenant:          md[MetaTenant],
		PartitionKey:    md[MetaPartitionKey],
		SchemaVersion:   md[MetaSchemaVersion],
		TraceParent:     md[MetaTraceParent],
		Data:            data,
	}
	if ts := md[MetaTime]; ts != "" {
		t, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			return Envelope{}, &FieldError{Scope: "envelope", Field: "time", Value: ts,
				Reason: "is not an RFC 3339 timestamp", Kind: ErrMalformed}
		}
		env.Time = t.UTC()
	}
	return env, nil
}

// attributeHeaders are the headers that become envelope attributes.
var attributeHeaders = map[string]bool{
	MetaID: true, MetaSource: true, MetaType: true, MetaSpecVersion: true, MetaTime: true,
	MetaSubject: true, MetaContentType: true, MetaTenant: true, MetaPartitionKey: true,
	MetaSchemaVersion: true, MetaTraceParent: true,
}

// checkHeaders bounds the headers' count and size, and refuses an attribute
// header that is not valid UTF-8: as a string it would reach tables and
// subjects holding bytes no reader can display, or compare unequal to the
// same text sent correctly. Other headers are not ours to read. A
// non-empty id is checked as MetaID's value, replacing md's (DecodeWithID).
func checkHeaders(md map[string]string, id string, limits Limits) error {
	if err := limits.Validate(); err != nil {
		return fmt.Errorf("check headers: %w", err)
	}
	n := len(md)
	if _, ok := md[MetaID]; id != "" && !ok {
		n++
	}
	if n > limits.MaxHeaders {
		return &FieldError{Scope: "headers", Field: "headers", Reason: fmt.Sprintf(
			"number %d, more than the limit of %d", n, limits.MaxHeaders), Kind: ErrTooLarge}
	}
	if id != "" {
		if err := checkHeader(MetaID, id, limits); err != nil {
			return err
		}
	}
	for k, v := range md {
		if id != "" && k == MetaID {
			continue // replaced by id
		}
		if err := checkHeader(k, v, limits); err != nil {
			return err
		}
	}
	return nil
}

func checkHeader(k, v string, limits Limits) error {
	if n := len(k) + len(v); n > limits.MaxHeaderSize {
		return &FieldError{Scope: "headers", Field: k, Reason: fmt.Sprintf(
			"is %d bytes, more than the limit of %d", n, limits.MaxHeaderSize), Kind: ErrTooLarge}
	}
	if attributeHeaders[k] && !utf8.ValidString(v) {
		return &FieldError{Scope: "headers", Field: k, Reason: "is not valid UTF-8", Kind: ErrMalformed}
	}
	return nil
}
