-- name: stuck_task
-- Finds tasks whose latest attempt started between @since and @until -
-- @min_age_s and has no terminal event (succeeded, failed, timed_out,
-- cancelled, or a retry, which carries the next attempt's number) by @until.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: min_age_s UInt = 300
SELECT
    'task_id' AS entity_type,
    task_id AS entity_id,
    started AS window_start,
    @until AS window_end,
    (toUInt32(@until) - toUInt32(started)) / @min_age_s AS score,
    any_type AS task_type,
    any_queue AS queue,
    last_attempt AS attempt
FROM
(
    SELECT task_id, any(task_type) AS any_type, any(queue) AS any_queue,
           maxIf(event_time, status = 'started') AS started,
           maxIf(attempt, status = 'started') AS last_attempt,
           maxIf(event_time, status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'retried')) AS finished,
           maxIf(if(status = 'retried', attempt - 1, attempt), status IN ('succeeded', 'failed', 'timed_out', 'cancelled', 'retried')) AS finished_attempt
    FROM task_events
    WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
    GROUP BY task_id
)
WHERE started > toDateTime(0) AND started <= @until - @min_age_s
  AND (finished_attempt < last_attempt OR finished = toDateTime(0))
ORDER BY window_start, entity_id
