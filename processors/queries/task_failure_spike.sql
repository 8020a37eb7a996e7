-- name: task_failure_spike
-- Finds (task type, queue) buckets of @bucket_s seconds whose failure rate is
-- at least @min_rate and @factor times the series' rate over the @lookback_s
-- seconds before @since, with at least @min_events finished attempts.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
-- param: lookback_s UInt = 86400
-- param: min_events UInt = 10
-- param: min_rate Float = 0.25
-- param: factor Float = 3
SELECT
    'task' AS entity_type,
    concat(task_type, '/', queue) AS entity_id,
    window_start,
    window_end,
    rate / greatest(@factor * base_rate, @min_rate) AS score,
    failures,
    finished,
    round(rate, 3) AS failure_rate,
    round(base_rate, 3) AS baseline_rate
FROM
(
    SELECT task_type, queue,
           min(event_time) AS window_start, max(event_time) AS window_end,
           uniqExactIf(event_id, status IN ('failed', 'timed_out')) AS failures,
           uniqExact(event_id) AS finished,
           failures / finished AS rate
    FROM task_events
    WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
      AND status IN ('succeeded', 'failed', 'timed_out')
    GROUP BY task_type, queue, intDiv(toUInt32(event_time), @bucket_s) AS bucket
) AS recent
ALL LEFT JOIN
(
    SELECT task_type, queue,
           countIf(status IN ('failed', 'timed_out')) / count() AS base_rate
    FROM task_events
    WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
      AND status IN ('succeeded', 'failed', 'timed_out')
    GROUP BY task_type, queue
) AS base USING (task_type, queue)
WHERE finished >= @min_events AND rate >= @min_rate AND rate >= @factor * base_rate
ORDER BY window_start, entity_id
