-- Per-minute rollup of task outcomes for failure-rate spikes and latency
-- regressions per (task_type, queue):
--   SELECT minute, status, uniqMerge(distinct_events), avgIfMerge(duration_avg)
--   FROM task_outcomes_1m WHERE tenant = ? AND task_type = ? AND queue = ?
--   GROUP BY minute, status ORDER BY minute
-- countState counts deliveries, uniqState(event_id) events (see 009).
-- duration_ms is NULL unless the attempt finished, so the duration states
-- are -If combinators over ifNull(...) rather than Nullable states, which
-- keeps the state types plain on 18.16 and 25.x alike.
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
