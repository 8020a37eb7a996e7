-- name: brute_force_user
-- Finds users with at least @min_failures failed logins in one @bucket_s-second
-- bucket (aligned to the epoch) between @since and @until.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
-- param: min_failures UInt = 8
SELECT
    'user' AS entity_type,
    user_id AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    uniqExact(event_id) / @min_failures AS score,
    uniqExact(event_id) AS failures,
    uniqExact(source_ip) AS source_ips
FROM auth_events
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
  AND event_type = 'io.tributary.auth.login.failed'
GROUP BY user_id, intDiv(toUInt32(event_time), @bucket_s) AS bucket
HAVING failures >= @min_failures
ORDER BY window_start, entity_id
