CREATE TABLE IF NOT EXISTS schema_migrations
(
    version        UInt32,
    name           String,
    applied_at     DateTime,
    server_version String
)
ENGINE = ReplacingMergeTree(applied_at)
ORDER BY version;

CREATE TABLE IF NOT EXISTS auth_events
(
    event_id       UUID,
    event_type     String,
    tenant         String,
    source         String,
    subject        String,
    user_id        String,
    source_ip      String,
    user_agent     String,
    country        String,
    latitude       Nullable(Float64),
    longitude      Nullable(Float64),
    method         String,
    outcome        String,
    failure_reason String,
    role           String,
    resource       String,
    action         String,
    trace_parent   String,
    event_time     DateTime,
    ingest_time    DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (tenant, user_id, event_time, event_id);

CREATE TABLE IF NOT EXISTS telemetry_metrics
(
    event_id    UUID,
    tenant      String,
    host        String,
    service     String,
    name        String,
    value       Float64,
    unit        String,
    labels      Nested(key String, value String),
    event_time  DateTime,
    ingest_time DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (tenant, host, name, event_time, event_id);

CREATE TABLE IF NOT EXISTS dead_letters
(
    event_id    String,
    family      String,
    transport   String,
    topic       String,
    reason      String,
    headers     Nested(key String, value String),
    payload     String,
    event_time  DateTime,
    ingest_time DateTime
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (family, event_time);

ALTER TABLE dead_letters MODIFY TTL event_time + INTERVAL 90 DAY;

CREATE TABLE IF NOT EXISTS task_events
(
    event_id       UUID,
    event_type     String,
    tenant         String,
    source         String,
    task_id        String,
    task_type      String,
    queue          String,
    attempt        UInt16,
    status         String,
    worker         String,
    error_class    String,
    error_message  String,
    scheduled_at   DateTime,
    started_at     DateTime,
    finished_at    DateTime,
    duration_ms    Nullable(Float64),
    trace_parent   String,
    event_time     DateTime,
    ingest_time    DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (tenant, task_type, queue, event_time, event_id);

CREATE TABLE IF NOT EXISTS telemetry_logs
(
    event_id    UUID,
    tenant      String,
    host        String,
    service     String,
    severity    String,
    body        String,
    attributes  Nested(key String, value String),
    event_time  DateTime,
    ingest_time DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (tenant, host, service, severity, event_time, event_id);

CREATE TABLE IF NOT EXISTS telemetry_heartbeats
(
    event_id    UUID,
    tenant      String,
    host        String,
    service     String,
    interval_ms UInt32,
    version     String,
    event_time  DateTime,
    ingest_time DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (tenant, host, service, event_time, event_id);

CREATE TABLE IF NOT EXISTS anomalies
(
    event_id          UUID,
    tenant            String,
    kind              String,
    family            String,
    entity_type       String,
    entity_id         String,
    score             Float64,
    severity          String,
    window_start      DateTime,
    window_end        DateTime,
    detector          String,
    detector_version  String,
    evidence          Nested(key String, value String),
    related_event_ids Array(String),
    event_time        DateTime,
    ingest_time       DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(window_start)
ORDER BY (tenant, kind, entity_type, entity_id, window_start, event_id);

CREATE TABLE IF NOT EXISTS auth_failures_1m
(
    tenant          String,
    user_id         String,
    source_ip       String,
    event_type      String,
    minute          DateTime,
    events          AggregateFunction(count),
    distinct_events AggregateFunction(uniq, UUID),
    countries       AggregateFunction(uniq, String)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(minute)
ORDER BY (tenant, user_id, source_ip, event_type, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS auth_failures_1m_mv TO auth_failures_1m AS
SELECT tenant, user_id, source_ip, event_type, toStartOfMinute(event_time) AS minute,
       countState() AS events, uniqState(event_id) AS distinct_events, uniqState(country) AS countries
FROM auth_events
WHERE outcome = 'failure'
GROUP BY tenant, user_id, source_ip, event_type, minute;

CREATE TABLE IF NOT EXISTS task_outcomes_1m
(
    tenant          String,
    task_type       String,
    queue           String,
    status          String,
    minute          DateTime,
    events          AggregateFunction(count),
    distinct_events AggregateFunction(uniq, UUID),
    duration_avg    AggregateFunction(avgIf, Float64, UInt8),
    duration_max    AggregateFunction(maxIf, Float64, UInt8)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(minute)
ORDER BY (tenant, task_type, queue, status, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS task_outcomes_1m_mv TO task_outcomes_1m AS
SELECT tenant, task_type, queue, status, toStartOfMinute(event_time) AS minute,
       countState() AS events, uniqState(event_id) AS distinct_events,
       avgIfState(ifNull(duration_ms, 0.), isNotNull(duration_ms)) AS duration_avg,
       maxIfState(ifNull(duration_ms, 0.), isNotNull(duration_ms)) AS duration_max
FROM task_events
GROUP BY tenant, task_type, queue, status, minute;

CREATE TABLE IF NOT EXISTS metrics_1m
(
    tenant          String,
    host            String,
    name            String,
    minute          DateTime,
    points          AggregateFunction(count),
    distinct_events AggregateFunction(uniq, UUID),
    value_avg       AggregateFunction(avg, Float64),
    value_min       AggregateFunction(min, Float64),
    value_max       AggregateFunction(max, Float64)
)
ENGINE = AggregatingMergeTree()
PARTITION BY toYYYYMMDD(minute)
ORDER BY (tenant, host, name, minute);

CREATE MATERIALIZED VIEW IF NOT EXISTS metrics_1m_mv TO metrics_1m AS
SELECT tenant, host, name, toStartOfMinute(event_time) AS minute,
       countState() AS points, uniqState(event_id) AS distinct_events,
       avgState(value) AS value_avg, minState(value) AS value_min, maxState(value) AS value_max
FROM telemetry_metrics
GROUP BY tenant, host, name, minute;

ALTER TABLE auth_events MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE telemetry_metrics MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE task_events MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE telemetry_logs MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE telemetry_heartbeats MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE anomalies MODIFY SETTING non_replicated_deduplication_window = 1000;

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

ALTER TABLE auth_failures_1m MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE task_outcomes_1m MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE metrics_1m MODIFY SETTING non_replicated_deduplication_window = 1000;

ALTER TABLE auth_events MODIFY TTL event_time + INTERVAL 30 DAY;

ALTER TABLE telemetry_metrics MODIFY TTL event_time + INTERVAL 30 DAY;

ALTER TABLE task_events MODIFY TTL event_time + INTERVAL 30 DAY;

ALTER TABLE telemetry_logs MODIFY TTL event_time + INTERVAL 30 DAY;

ALTER TABLE telemetry_heartbeats MODIFY TTL event_time + INTERVAL 30 DAY;

ALTER TABLE anomalies MODIFY TTL window_start + INTERVAL 180 DAY;
