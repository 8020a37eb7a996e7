-- name: new_country
-- Finds successful logins between @since and @until from a country the user
-- never logged in from during the @lookback_s seconds before @since, for users
-- with at least @warmup logins in that history (new users are skipped).
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: lookback_s UInt = 2592000
-- param: warmup UInt = 5
SELECT
    'user' AS entity_type,
    user_id AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    1 AS score,
    country,
    uniqExact(event_id) AS logins
FROM auth_events
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
  AND event_type = 'io.tributary.auth.login.succeeded' AND country != ''
  AND user_id IN
  (
      SELECT user_id FROM auth_events
      WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
        AND event_type = 'io.tributary.auth.login.succeeded'
      GROUP BY user_id HAVING uniqExact(event_id) >= @warmup
  )
  AND (user_id, country) NOT IN
  (
      SELECT user_id, country FROM auth_events
      WHERE tenant = @tenant AND event_time >= @since - @lookback_s AND event_time < @since
        AND event_type = 'io.tributary.auth.login.succeeded'
  )
GROUP BY user_id, country
ORDER BY window_start, entity_id
