// Package transport measures publish and subscribe throughput of our
// Watermill adapters (infra/kafkabus, infra/natsbus) against the
// alternatives on the same broker in the same run: watermill-kafka/v3
// (Sarama) and raw segmentio/kafka-go for Kafka, raw nats.go jetstream
// for JetStream.
//
// Fairness, per case:
//   - The same messages: 1 KiB payloads, each carrying a 36-byte event id
//     header (every implementation sends one: ours ce_id, Sarama's
//     marshaler its UUID header, the raw clients the same ce_id; the raw
//     JetStream publish also sets Nats-Msg-Id as ours does, so the server
//     deduplicates for both).
//   - The same durability: Kafka acks=all for every producer, no
//     compression; JetStream waits for the PubAck of every message.
//   - The same batching knobs where they exist: kafka-go's Writer (ours and
//     raw) with BatchSize 100 and our BatchTimeout; Sarama with its defaults
//     (no linger, it batches what queues up while a request is in flight).
//   - The same message counts and concurrency for every implementation of
//     a case, in rounds whose order rotates; the median round is reported.
//
// Publish modes: "concurrent" is P goroutines each publishing one message
// per call and waiting for its ack (Watermill's usual shape: many
// handlers publishing); "batch" is one goroutine publishing slices of 100.
// Subscribe reads a pre-filled topic with a fresh consumer group from the
// start, acking every message from one goroutine (a fast handler); the
// rate is measured from the first message to the last, so the group join
// is reported separately and not counted.
//
// MB/s counts payload bytes only (10^6 bytes per MB).
package transport
