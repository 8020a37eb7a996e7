-- name: task_latency_regression
-- Finds (task type, queue) buckets of @bucket_s seconds whose median
-- log-duration is at least @min_z robust sigmas (1.4826 × MAD) above the
-- median of the @lookback_s seconds before @since, with at least @min_events
-- finished attempts. Log scale because durations are skewed.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
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
    WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
      AND status IN ('succeeded', 'failed') AND isNotNull(duration_ms)
    GROUP BY task_type, queue, intDiv(toUInt32(event_time), @bucket_s) AS bucket
)
ANY INNER JOIN
(
    SELECT task_type, queue, any(med) AS base_med,
           quantileExact(0.5)(abs(log(1 + assumeNotNull(duration_ms)) - med)) AS mad
    FROM task_events
    ANY INNER JOIN
    (
        SELECT task_type, queue, quantileExact(0.5)(log(1 + assumeNotNull(duration_ms))) AS med
        FROM task_events
        WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
          AND status IN ('succeeded', 'failed') AND isNotNull(duration_ms)
        GROUP BY task_type, queue
    ) USING (task_type, queue)
    WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
      AND status IN ('succeeded', 'failed') AND isNotNull(duration_ms)
    GROUP BY task_type, queue
) USING (task_type, queue)
WHERE n >= @min_events
  AND ((cur_med - base_med) / greatest(1.4826 * mad, 0.01) AS z) >= @min_z
ORDER BY window_start, entity_id
