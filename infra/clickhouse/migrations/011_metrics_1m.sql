-- Per-minute rollup of metric points per (host, name) for spike detection
-- and dashboards:
--   SELECT minute, avgMerge(value_avg), maxMerge(value_max)
--   FROM metrics_1m WHERE tenant = ? AND host = ? AND name = ?
--   GROUP BY minute ORDER BY minute
-- A redelivered point reaches the states twice (see 009): min and max do
-- not change, points and value_avg drift by the share of redeliveries
-- (small: only what was in flight at a crash or rebalance); distinct_events
-- counts points exactly, and exact figures come from telemetry_metrics FINAL.
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
