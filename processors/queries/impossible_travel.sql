-- name: impossible_travel
-- Finds consecutive successful logins of one user farther apart than
-- @min_km kilometres at a speed above @max_kmh. No window functions: each
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
    toDateTime(prev.1) AS window_start,
    toDateTime(cur.1) AS window_end,
    speed_kmh / @max_kmh AS score,
    prev.4 AS from_country,
    cur.4 AS to_country,
    round(km, 1) AS distance_km,
    round(speed_kmh, 1) AS speed
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
ORDER BY window_start, entity_id
