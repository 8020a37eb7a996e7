-- Metric points reported by hosts, one row per point.
--
-- ReplacingMergeTree(ingest_time) with a key made only of event fields, so a
-- redelivered point collapses (see 001). PARTITION BY day as in 001.
--
-- ORDER BY (tenant, host, name, event_time, event_id):
--   tenant, host       silent hosts: max(event_time) per host of a tenant,
--                      GROUP BY host reads hosts in key order;
--   name, event_time   metric spikes: one series (host, name) is a
--                      contiguous, time-ordered range, so the last window and
--                      its baseline (avg/stddevPop/quantileTDigest over the
--                      preceding hour) are two adjacent range reads;
--   event_id           tie-break: two points of a series in the same second
--                      stay distinct.
-- labels are free-form (Nested = two parallel arrays labels.key and
-- labels.value); filter them with has()/arrayFilter, never key on them.
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
