-- Task lifecycle events, one row per event (submitted, started, succeeded,
-- failed, retried, cancelled, timed_out: the status column).
--
-- ReplacingMergeTree(ingest_time) with a key of event fields only, so a
-- redelivered event collapses (see 001). PARTITION BY day as in 001.
--
-- ORDER BY (tenant, task_type, queue, event_time, event_id):
--   tenant                  every query is per tenant;
--   task_type, queue        failure-rate spikes and latency regressions are
--                           per (task_type, queue): one contiguous range per
--                           series, read in time order for windows;
--   event_time              the window inside a series;
--   event_id                tie-break.
-- Stuck tasks (started, no terminal event) group by task_id inside the
-- tenant's recent partitions; task_id is not in the key because a task's
-- few events are found by that aggregation anyway.
-- Times a payload does not carry are 1970-01-01 00:00:00 (DateTime's zero),
-- and duration_ms is NULL unless the attempt finished.
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
