-- Log records, one row per record.
--
-- ORDER BY (tenant, host, service, severity, event_time, event_id):
--   tenant, host, service   error-log bursts are per service instance;
--   severity                the burst query reads only error/fatal rows of
--                           a series, a sub-range of the key;
--   event_time, event_id    window and tie-break (see 001).
-- attributes are free-form, as metric labels are (see 002).
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
