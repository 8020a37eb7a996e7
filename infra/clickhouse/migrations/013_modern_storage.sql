-- requires: server >= 22.8
-- Storage that current servers offer and 18.16 (CI) lacks or handles
-- badly: LowCardinality on the strings with few distinct values (tenant,
-- types, statuses, hosts, countries), codecs that fit the data (Delta on
-- times, Gorilla on metric values, ZSTD on bodies and payloads), and a
-- bloom-filter skip index on auth_events.source_ip, which brute_force_ip
-- and credential_stuffing filter and group on outside the sort key.
-- Every statement is idempotent; on an existing install each MODIFY COLUMN
-- rewrites that column's parts in the background (a mutation).
-- 22.8 (LTS) is the gate, as for 012.
ALTER TABLE auth_events
    MODIFY COLUMN tenant LowCardinality(String),
    MODIFY COLUMN event_type LowCardinality(String),
    MODIFY COLUMN source LowCardinality(String),
    MODIFY COLUMN country LowCardinality(String),
    MODIFY COLUMN method LowCardinality(String),
    MODIFY COLUMN outcome LowCardinality(String),
    MODIFY COLUMN failure_reason LowCardinality(String),
    MODIFY COLUMN role LowCardinality(String),
    MODIFY COLUMN action LowCardinality(String),
    MODIFY COLUMN user_agent String CODEC(ZSTD(1)),
    MODIFY COLUMN event_time DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN ingest_time DateTime CODEC(Delta, ZSTD(1));
ALTER TABLE auth_events ADD INDEX IF NOT EXISTS source_ip_bloom source_ip TYPE bloom_filter(0.01) GRANULARITY 4;
ALTER TABLE task_events
    MODIFY COLUMN tenant LowCardinality(String),
    MODIFY COLUMN event_type LowCardinality(String),
    MODIFY COLUMN source LowCardinality(String),
    MODIFY COLUMN task_type LowCardinality(String),
    MODIFY COLUMN queue LowCardinality(String),
    MODIFY COLUMN status LowCardinality(String),
    MODIFY COLUMN worker LowCardinality(String),
    MODIFY COLUMN error_class LowCardinality(String),
    MODIFY COLUMN error_message String CODEC(ZSTD(3)),
    MODIFY COLUMN scheduled_at DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN started_at DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN finished_at DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN event_time DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN ingest_time DateTime CODEC(Delta, ZSTD(1));
ALTER TABLE telemetry_metrics
    MODIFY COLUMN tenant LowCardinality(String),
    MODIFY COLUMN host LowCardinality(String),
    MODIFY COLUMN service LowCardinality(String),
    MODIFY COLUMN name LowCardinality(String),
    MODIFY COLUMN unit LowCardinality(String),
    MODIFY COLUMN value Float64 CODEC(Gorilla, ZSTD(1)),
    MODIFY COLUMN event_time DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN ingest_time DateTime CODEC(Delta, ZSTD(1));
ALTER TABLE telemetry_logs
    MODIFY COLUMN tenant LowCardinality(String),
    MODIFY COLUMN host LowCardinality(String),
    MODIFY COLUMN service LowCardinality(String),
    MODIFY COLUMN severity LowCardinality(String),
    MODIFY COLUMN body String CODEC(ZSTD(3)),
    MODIFY COLUMN event_time DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN ingest_time DateTime CODEC(Delta, ZSTD(1));
ALTER TABLE telemetry_heartbeats
    MODIFY COLUMN tenant LowCardinality(String),
    MODIFY COLUMN host LowCardinality(String),
    MODIFY COLUMN service LowCardinality(String),
    MODIFY COLUMN version LowCardinality(String),
    MODIFY COLUMN event_time DateTime CODEC(Delta, ZSTD(1)),
    MODIFY COLUMN ingest_time DateTime CODEC(Delta, ZSTD(1));
ALTER TABLE anomalies
    MODIFY COLUMN tenant LowCardinality(String),
    MODIFY COLUMN kind LowCardinality(String),
    MODIFY COLUMN family LowCardinality(String),
    MODIFY COLUMN entity_type LowCardinality(String),
    MODIFY COLUMN severity LowCardinality(String),
    MODIFY COLUMN detector LowCardinality(String),
    MODIFY COLUMN detector_version LowCardinality(String);
ALTER TABLE dead_letters
    MODIFY COLUMN family LowCardinality(String),
    MODIFY COLUMN transport LowCardinality(String),
    MODIFY COLUMN topic LowCardinality(String),
    MODIFY COLUMN payload String CODEC(ZSTD(3));
