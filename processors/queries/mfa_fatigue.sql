-- name: mfa_fatigue
-- Finds users with at least @min_denials MFA denials in one @bucket_s-second
-- bucket (push-bombing until the user gives in).
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 120
-- param: min_denials UInt = 4
SELECT
    'user' AS entity_type,
    user_id AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    uniqExact(event_id) / @min_denials AS score,
    uniqExact(event_id) AS denials
FROM auth_events
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
  AND event_type = 'io.tributary.auth.mfa.denied'
GROUP BY user_id, intDiv(toUInt32(event_time), @bucket_s) AS bucket
HAVING denials >= @min_denials
ORDER BY window_start, entity_id
