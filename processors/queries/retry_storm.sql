-- name: retry_storm
-- Finds (task type, queue) buckets of @bucket_s seconds with at least
-- @min_retries retries.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
-- param: min_retries UInt = 20
SELECT
    'task' AS entity_type,
    concat(task_type, '/', queue) AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    uniqExact(event_id) / @min_retries AS score,
    uniqExact(event_id) AS retries,
    uniqExact(task_id) AS tasks
FROM task_events
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until AND status = 'retried'
GROUP BY task_type, queue, intDiv(toUInt32(event_time), @bucket_s) AS bucket
HAVING retries >= @min_retries
ORDER BY window_start, entity_id
