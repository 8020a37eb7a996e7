// Package kafkabus is the Apache Kafka transport: a Watermill Publisher and
// Subscriber on segmentio/kafka-go, and EnsureTopics for provisioning.
//
// Guarantees, in short:
//   - Publish returns after acks=all. There is no idempotent producer in
//     kafka-go, so a write retried after a lost response may be stored
//     twice; every record carries the event id (bus.HeaderEventID) and
//     consumers deduplicate by it.
//   - Keys: murmur2 (the Java client's partitioner) on KeyFunc's key,
//     default metadata ce_partitionkey; order holds per key.
//   - Subscribers are consumer-group members built on kafka-go's
//     ConsumerGroup/Generation API with one fresh reader per partition per
//     generation; offsets committed are the contiguous acked watermark.
//     Delivery is at-least-once; see Subscriber for the duplicate window.
package kafkabus
