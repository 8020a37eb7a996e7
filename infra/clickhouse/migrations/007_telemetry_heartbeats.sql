-- Heartbeats: a service instance saying it is alive and when to expect the
-- next one (interval_ms).
--
-- ORDER BY (tenant, host, service, event_time, event_id): silent hosts are
-- max(event_time) per (host, service) compared with now() and the announced
-- interval, one range per instance.
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
