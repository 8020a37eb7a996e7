-- name: silent_host
-- Finds hosts that sent heartbeats between @since and @until but none in the
-- last @k intervals (the interval each host announced) before @until.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: k Float = 3
SELECT
    'host' AS entity_type,
    host AS entity_id,
    last AS window_start,
    @until AS window_end,
    (toUInt32(@until) - toUInt32(last)) / (@k * interval_s) AS score,
    interval_s,
    toUInt32(@until) - toUInt32(last) AS silent_s
FROM
(
    SELECT host, max(event_time) AS last, max(interval_ms) / 1000 AS interval_s
    FROM telemetry_heartbeats
    WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
    GROUP BY host
)
WHERE toUInt32(@until) - toUInt32(last) > @k * interval_s
ORDER BY window_start, entity_id
