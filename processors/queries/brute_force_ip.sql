-- name: brute_force_ip
-- Finds source IPs with at least @min_failures failed logins on fewer than
-- @max_users distinct users in one @bucket_s-second bucket (many users is
-- credential_stuffing instead).
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
-- param: min_failures UInt = 20
-- param: max_users UInt = 8
SELECT
    'ip' AS entity_type,
    source_ip AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    uniqExact(event_id) / @min_failures AS score,
    uniqExact(event_id) AS failures,
    uniqExact(user_id) AS users
FROM auth_events
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
  AND event_type = 'io.tributary.auth.login.failed'
GROUP BY source_ip, intDiv(toUInt32(event_time), @bucket_s) AS bucket
HAVING failures >= @min_failures AND users < @max_users
ORDER BY window_start, entity_id
