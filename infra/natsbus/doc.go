// Package natsbus is the NATS JetStream transport: a Watermill Publisher
// and Subscriber on nats.go's jetstream package, and EnsureStream for
// provisioning.
//
// # Why not watermill-nats
//
// github.com/ThreeDotsLabs/watermill-nats/v2 (v2.1.3, checked) has two
// packages. pkg/nats is built on the legacy JetStreamContext API. Its
// pkg/jetstream uses the new API but calls itself experimental, its
// publisher never sets Nats-Msg-Id (no server-side dedup), publishes with
// context.Background, defaults to ephemeral consumers, connects inside its
// constructor, and nacks with one fixed delay; it would also add
// pkg/errors and go-multierror to our module graph. What we need — durable
// pull consumers shared by a group, explicit ack, Nak with growing backoff,
// AckWait, MaxDeliver, MaxAckPending, dedup by event id — is a few hundred
// lines on nats.go's jetstream package, so we own it.
//
// # Contract
//
// Metadata travels as NATS headers, keys as-is (see package bus); headers
// starting with "Nats-" are reserved for the server and never taken from or
// given back as metadata. The UUID goes in bus.HeaderEventID, and
// Nats-Msg-Id is "<uuid>@<subject>", so a publish retried within the
// stream's Duplicates window is stored once. The id is scoped to the
// subject because dedup is per stream: the same event republished to
// another subject of the stream (a poison queue) must not be dropped.
//
// Publish returns after the stream acknowledged every message (PubAck).
// Slices are pipelined with async publishes and still wait for all acks.
//
// A Subscriber's Durable names a consumer group: every instance with the
// same Durable subscribing to the same subject shares one durable pull
// consumer, and the server spreads messages across them. Ack acks the
// message; Nack naks it with a delay that grows with its delivery count.
// While a message is in flight the subscriber tells the server it is in
// progress, so AckWait only bounds how long a crashed instance holds its
// messages, not how long a handler may run. On Close (or ctx done) the
// subscriber stops taking messages, naks the ones it had buffered so other
// instances get them at once, waits up to DrainTimeout for in-flight acks
// and naks the rest. Delivery is at-least-once and unordered across
// instances: consumers deduplicate by event id.
package natsbus
