-- name: task_latency_regression
-- Finds (task type, queue) windows of @bucket_s seconds whose median
-- log-duration is at least @min_z robust sigmas (1.4826 × MAD) above the
-- median of the @lookback_s seconds before @since, with at least
-- @min_events finished attempts. Windows hop by half their length, so a
-- regression lasting 1.5 windows fills one of them whatever the clock's
-- alignment (a fixed grid can split it into two half-fast windows). The
-- baseline ends at @since: it never learns the regression it is compared
-- with. Log scale because durations are skewed.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 30
-- param: lookback_s UInt = 86400
-- param: min_events UInt = 5
-- param: min_z Float = 3
SELECT
    'task' AS entity_type,
    concat(task_type, '/', queue) AS entity_id,
    window_start,
    window_end,
    z / @min_z AS score,
    round(exp(cur_med) - 1) AS median_ms,
    round(exp(base_med) - 1) AS baseline_median_ms,
    round(z, 2) AS z_score,
    n AS finished
FROM
(
    SELECT task_type, queue,
           min(event_time) AS window_start, max(event_time) AS window_end,
           quantileExact(0.5)(log(1 + assumeNotNull(duration_ms))) AS cur_med,
           count() AS n
    FROM task_events
    ARRAY JOIN [0, 1] AS half
    WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
      AND status IN ('succeeded', 'failed') AND isNotNull(duration_ms)
    GROUP BY task_type, queue, half, intDiv(toUInt32(event_time) + half * intDiv(@bucket_s, 2), @bucket_s) AS bucket
) AS cur
ALL INNER JOIN
(
    SELECT task_type, queue, any(med) AS base_med,
           quantileExact(0.5)(abs(log(1 + assumeNotNull(duration_ms)) - med)) AS mad
    FROM task_events
    ALL INNER JOIN
    (
        SELECT task_type, queue, quantileExact(0.5)(log(1 + assumeNotNull(duration_ms))) AS med
        FROM task_events
        WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
          AND status IN ('succeeded', 'failed') AND isNotNull(duration_ms)
        GROUP BY task_type, queue
    ) AS m USING (task_type, queue)
    WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
      AND status IN ('succeeded', 'failed') AND isNotNull(duration_ms)
    GROUP BY task_type, queue
) AS base USING (task_type, queue)
WHERE n >= @min_events
  AND ((cur_med - base_med) / greatest(1.4826 * mad, 0.01) AS z) >= @min_z
ORDER BY window_start, entity_id
