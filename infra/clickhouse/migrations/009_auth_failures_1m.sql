-- Per-minute rollup of auth failures for the hot brute-force queries:
-- failures per (user, source ip) per minute, read with
--   SELECT user_id, source_ip, minute, uniqMerge(distinct_events) AS failures
--   FROM auth_failures_1m WHERE tenant = ? AND minute >= now() - 600
--   GROUP BY user_id, source_ip, minute
-- instead of scanning auth_events.
--
-- A materialized view fires on every INSERT into auth_events, before
-- ReplacingMergeTree collapses redelivered copies, so countState counts
-- deliveries (at least once) while uniqState(event_id) counts events: use
-- distinct_events when exactness matters. uniq is exact for small sets (the
-- per-minute counts here) and approximate beyond tens of thousands.
--
-- ORDER BY (tenant, user_id, source_ip, minute): per-user and per-ip
-- windows; AggregatingMergeTree merges the rows of one key into one state.
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
