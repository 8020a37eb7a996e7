-- name: credential_stuffing
-- Finds source IPs whose failed logins in one @bucket_s-second bucket tried at
-- least @min_users distinct user names.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
-- param: min_users UInt = 8
SELECT
    'ip' AS entity_type,
    source_ip AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    uniqExact(user_id) / @min_users AS score,
    uniqExact(user_id) AS users,
    uniqExact(event_id) AS failures
FROM auth_events
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
  AND event_type = 'io.tributary.auth.login.failed'
GROUP BY source_ip, intDiv(toUInt32(event_time), @bucket_s) AS bucket
HAVING users >= @min_users
ORDER BY window_start, entity_id
