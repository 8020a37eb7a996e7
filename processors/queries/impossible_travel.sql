-- name: impossible_travel
-- Finds users whose consecutive successful logins lie farther apart than
-- @min_km kilometres at a speed above @max_kmh: one row per user and
-- window (an incident), however many such jumps it holds, with the
-- fastest one's speed and the number of jumps. No window functions: each
-- user's logins are collected in time order into an array and paired with
-- their predecessor by index. The distance is the haversine formula written
-- out (mean Earth radius 6371.0088 km): greatCircleDistance changed its
-- formula between 18.16 and current servers, so it gives other numbers.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: min_km Float = 500
-- param: max_kmh Float = 1000
SELECT
    'user' AS entity_type,
    user_id AS entity_id,
    toDateTime(min(jump_from)) AS window_start,
    toDateTime(max(jump_to)) AS window_end,
    max(jump_speed) / @max_kmh AS score,
    argMin(country_from, jump_from) AS from_country,
    argMax(country_to, jump_to) AS to_country,
    round(max(jump_km), 1) AS distance_km,
    round(max(jump_speed), 1) AS speed,
    count() AS jumps
FROM
(
    SELECT user_id, prev.1 AS jump_from, cur.1 AS jump_to, prev.4 AS country_from, cur.4 AS country_to,
           km AS jump_km, speed_kmh AS jump_speed
    FROM
    (
        SELECT user_id,
               arraySort(x -> x.1, groupArray((toUInt32(event_time), assumeNotNull(latitude), assumeNotNull(longitude), country))) AS logins
        FROM auth_events
        WHERE tenant = @tenant AND event_time >= @since AND event_time < @until
          AND event_type = 'io.tributary.auth.login.succeeded'
          AND isNotNull(latitude) AND isNotNull(longitude)
        GROUP BY user_id
    )
    ARRAY JOIN arrayEnumerate(logins) AS i
    WHERE i > 1
      AND ((logins[i - 1] AS prev).1) <= ((logins[i] AS cur).1)
      AND (2 * 6371.0088 * asin(sqrt(
            pow(sin((cur.2 - prev.2) * pi() / 360), 2)
            + cos(prev.2 * pi() / 180) * cos(cur.2 * pi() / 180) * pow(sin((cur.3 - prev.3) * pi() / 360), 2)
          )) AS km) >= @min_km
      AND (km / greatest((cur.1 - prev.1) / 3600, 1 / 3600) AS speed_kmh) > @max_kmh
)
GROUP BY user_id
ORDER BY window_start, entity_id
