-- Anomalies the streaming detectors published, one row per finding.
--
-- ORDER BY (tenant, kind, entity_type, entity_id, window_start, event_id):
-- the analysts' report lists findings per kind, then per entity over time;
-- scoring against ground truth reads one kind at a time. event_time is when
-- the detector emitted the finding, so detection delay is
-- event_time - window_start. evidence is a Nested column (18.16 has no Map).
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
