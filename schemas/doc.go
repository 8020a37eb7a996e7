// Package schemas holds Tributary's event contracts: the CloudEvents
// envelope, the typed payload of every event type, their validation and
// limits, the JSON Schema documents generated from the Go types, and the
// routing table that maps event types to JetStream subjects and Kafka topics.
//
// # One declaration per rule
//
// Each field's rule (required, a format such as ip or uuid7, an enum, bounds)
// is declared once, in a `check` struct tag on the field (the grammar is in
// internal/rules). The validator applies those tags, and the generator writes
// them into jsonschema/: one document per event type's payload,
// envelope.json for the attributes, and event.json, which combines the two
// by type and is the document a producer in another language validates
// against. A property test generates events from those documents and
// requires the validator to accept them, and to reject each one-rule breach.
//
// It imports nothing else of Tributary so every other module can depend on it.
//
// # Wire format
//
// Events travel in CloudEvents 1.0 binary content mode: the payload is the
// JSON message body and the attributes are Watermill metadata (see
// metadata.go), which the transports map 1:1 to Kafka and NATS headers.
// Structured mode (one JSON object with the attributes and "data") is used
// only for JSON-lines files and fixtures.
//
// # Evolution
//
// Every event type has a schema version (TypeInfo.SchemaVersion). Within a
// version only additive, optional changes are allowed: no removed fields, no
// retyped fields, no new required fields. The compatibility test compares the
// generated documents in jsonschema/ with the snapshot of the last release in
// testdata/compat/v1/ and fails on any of these. A breaking change needs a new
// schema version (readers reject versions they do not know with
// ErrUnsupportedVersion) or a new event type.
//
// Regenerate the JSON Schema documents after changing a payload type:
//
//	go generate ./...   (from schemas/)
//
// # Errors
//
// Every error this package returns for a bad event wraps ErrInvalid, so a
// consumer can treat errors.Is(err, ErrInvalid) as poison: retrying will never
// make the event valid.
package schemas

//go:generate go run ./internal/cmd/genschema -out jsonschema
