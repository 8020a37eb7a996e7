-- name: anomalies
-- Lists what the streaming detectors published (the anomalies table), newest
-- first; @kind '' means every kind.
-- param: tenant String
-- param: since DateTime
-- param: until DateTime
-- param: kind String = ''
SELECT
    entity_type,
    entity_id,
    window_start,
    window_end,
    score,
    kind,
    severity,
    detector
FROM anomalies FINAL
WHERE tenant = @tenant AND window_start >= @since AND window_start < @until
  AND (@kind = '' OR kind = @kind)
ORDER BY window_start DESC, kind, entity_id
