-- name: metric_drop
-- Finds metric series (host, name) whose mean in a @bucket_s-second bucket is
-- at least @min_z robust sigmas (1.4826 × MAD) below the series' median over the
-- @lookback_s seconds before @since. The baseline ignores the daily rhythm:
-- keep @lookback_s short (an hour) where the rhythm is strong.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 10
-- param: lookback_s UInt = 3600
-- param: min_z Float = 5
SELECT
    'series' AS entity_type,
    concat(host, '/', name) AS entity_id,
    window_start,
    window_end,
    abs(z) / @min_z AS score,
    round(cur, 3) AS value,
    round(med, 3) AS baseline_median,
    round(z, 2) AS z_score
FROM
(
    SELECT host, name, min(event_time) AS window_start, max(event_time) AS window_end, avg(value) AS cur
    FROM telemetry_metrics
    WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
    GROUP BY host, name, intDiv(toUInt32(event_time), @bucket_s) AS bucket
) AS recent
ALL INNER JOIN
(
    SELECT host, name, any(m) AS med, quantileExact(0.5)(abs(value - m)) AS mad
    FROM telemetry_metrics
    ALL INNER JOIN
    (
        SELECT host, name, quantileExact(0.5)(value) AS m
        FROM telemetry_metrics
        WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
        GROUP BY host, name
    ) AS ref USING (host, name)
    WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
    GROUP BY host, name
) AS base USING (host, name)
WHERE ((cur - med) / greatest(greatest(1.4826 * mad, 0.001 * abs(med)), 1e-9) AS z) IS NOT NULL AND z <= -@min_z
ORDER BY window_start, entity_id
