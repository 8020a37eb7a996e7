// Package clickhouse is Tributary's adapter to ClickHouse: Open connects over
// the native protocol and creates the database, Migrate applies the embedded
// migrations/NNN_name.sql files, and BatchWriter turns many concurrent
// single-row writes into few large inserts.
//
// Base DDL and queries must run on ClickHouse 18.16 (CI, Debian's package) and
// on 25.x (production images), so they avoid DateTime64, window functions,
// LowCardinality, TTL and codecs; newer features live in migrations gated by a
// "-- requires: server >= X.Y" header (see ParseMigration).
//
// # Exactly-once view for analysts
//
// Delivery into ClickHouse is at-least-once: a redelivered event, or a batch
// retried after the server committed it but before we saw the reply, is
// inserted twice. The tables are ReplacingMergeTree whose sort key comes only
// from the event itself (ingest_time is the version column, not part of the
// key), so duplicates share a key and collapse in background merges. Until a
// merge runs, read the de-duplicated view with FINAL or count distinct ids:
//
//	SELECT user_id, count() AS failures
//	FROM auth_events FINAL
//	WHERE tenant = ? AND outcome = 'failure' AND event_time >= now() - 600
//	GROUP BY user_id
//
//	SELECT host, uniqExact(event_id) AS points
//	FROM telemetry_metrics
//	WHERE tenant = ? AND event_time >= now() - 300
//	GROUP BY host
//
// Plain count() over the table without FINAL may over-count recent data.
package clickhouse
