-- name: error_log_burst
-- Finds (host, service) buckets of @bucket_s seconds with at least @min_errors
-- error or fatal records.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: bucket_s UInt = 60
-- param: min_errors UInt = 20
SELECT
    'service' AS entity_type,
    concat(host, '/', service) AS entity_id,
    min(event_time) AS window_start,
    max(event_time) AS window_end,
    uniqExact(event_id) / @min_errors AS score,
    uniqExact(event_id) AS errors
FROM telemetry_logs
WHERE tenant = @tenant AND event_time >= @since AND event_time < @until AND severity IN ('error', 'fatal')
GROUP BY host, service, intDiv(toUInt32(event_time), @bucket_s) AS bucket
HAVING errors >= @min_errors
ORDER BY window_start, entity_id
