// Package bus holds what both transports (kafkabus, natsbus) agree on:
// how a Watermill message travels as a broker record.
//
// Metadata maps 1:1 to Kafka record headers and NATS message headers, keys
// as-is. The message UUID is the event id: it travels in the HeaderEventID
// header on both transports (and, on JetStream, also as Nats-Msg-Id so the
// server deduplicates retried publishes). A metadata entry with the key
// HeaderEventID is ignored on publish: the UUID always wins, so a copied
// metadata map can never give an event two ids.
//
// Neither transport delivers exactly once. Consumers that must not double
// count deduplicate by event id (msg.UUID).
package bus

// HeaderEventID is the header carrying the message UUID (event id). The name
// is the CloudEvents Kafka binding's header for the event id, which keeps
// records readable by any CloudEvents-aware consumer.
const HeaderEventID = "ce_id"

// MetadataPartitionKey is the metadata key (the CloudEvents partitionkey
// extension) whose value is the default Kafka message key.
const MetadataPartitionKey = "ce_partitionkey"
