package ingest

// # Delivery and the exactly-once read
//
// Ingest is at-least-once end to end: a message is acked (JetStream) or its
// offset committed (Kafka) only after BatchWriter.Write returned, i.e. after
// ClickHouse acknowledged the INSERT holding its row. A crash, a rebalance
// or an insert retried after a lost response can therefore insert a row
// twice, never zero times.
//
// Every event table is a ReplacingMergeTree whose sort key is made of event
// fields only and ends in event_id, so two copies of one event share a key
// and collapse. Analysts read exactly once with either form:
//
//	SELECT ... FROM auth_events FINAL WHERE tenant = ? ...        -- rows, deduplicated at read time
//	SELECT uniqExact(event_id) FROM auth_events WHERE tenant = ?  -- counts of events
//
// count() without FINAL counts deliveries, not events, until background
// merges happen to collapse the copies (which is never guaranteed).
// The per-minute rollups (migrations 009-011) see every delivery too: their
// distinct_events column (uniqState(event_id)) counts events, their
// events/points columns count deliveries.
//
// # Time policy
//
// Decode refuses events outside [now-Limits.MaxPast, now+Limits.MaxFuture]
// (ErrClockSkew: poison, dead-lettered). Tables are partitioned by day and a
// ClickHouse INSERT may touch at most 100 partitions, so this also keeps
// every batch within a few partitions; IngestConfig refuses a MaxPast over
// 30 days, and AnomalyValues bounds window_start, the anomalies partition key.
//
// # Insert deduplication tokens (design; not active)
//
// ClickHouse's own Kafka Connect sink achieves exactly-once writes by making
// batches deterministic: one batch per topic-partition covering a fixed
// offset range, inserted with insert_deduplication_token =
// "<topic>-<partition>-<firstoffset>-<lastoffset>", so a batch re-sent after
// a crash (same range, same token) is dropped by the server. For a
// non-replicated MergeTree that needs non_replicated_deduplication_window
// > 0 (migration 012, gated at server >= 22.8, conservatively: both the
// setting and the token exist since 22.2) and it is per table, so the
// token must also name the table. What stops us today:
//   - CI's ClickHouse is 18.16, which has neither the setting nor the token;
//   - the Kafka transport (infra/kafkabus) does not expose a record's
//     partition and offset on the Watermill message, and only it knows the
//     committed watermark a deterministic range must start from;
//   - BatchWriter mixes rows of all partitions of a table in one batch and
//     cuts batches by size and time, so a replayed range would not re-form
//     the same batch.
// The change, when the server allows it: the Kafka subscriber puts
// kafka_partition/kafka_offset in metadata; a per-partition batcher
// accumulates a contiguous offset range, writes it with the token (PrepareBatch
// with clickhouse.WithSettings), and acks the range; JetStream gets the
// same with stream sequence ranges per consumer. Until then FINAL /
// uniqExact(event_id) is the exactly-once read, and migration 012 already
// makes a retried identical block a no-op on servers that have the window.
