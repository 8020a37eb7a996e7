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
// # Insert deduplication tokens (servers >= 22.8)
//
// As ClickHouse's own Kafka Connect sink does, batches are made so a replay
// rebuilds them: the transports put each message's place in its log on its
// context (bus.Position: topic-partition and offset, stream and stream
// sequence), the Sink passes it to the writer (clickhouse.WithPosition),
// and the BatchWriter groups rows per log in windows of WindowRows
// consecutive positions. A full window is one batch, inserted with
// insert_deduplication_token naming the table, the log, the first and last
// position, the count and a hash of every position, and with
// deduplicate_blocks_in_dependent_materialized_views, so a batch re-sent
// after a crash is dropped by the server from the table and its rollups
// (migrations 012 and 014 give them a window). A window cut short by
// FlushInterval gets a token for exactly its rows: a replay may cut it
// differently and then inserts it again, which FINAL / uniqExact(event_id)
// absorbs as before. Ingest turns this on when the server is 22.8 or later;
// on 18.16 (CI), which has neither the token nor the window, rows of all
// logs share batches and FINAL is the exactly-once read.
