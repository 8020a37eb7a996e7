-- name: anomalies
-- Lists what the streaming detectors published (the anomalies table), newest
-- first; @kind '' means every kind. The evidence is shown as columns: value,
-- expected and z where the detector gives them, and every key=value pair.
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
    detector,
    evidence.value[indexOf(evidence.key, 'value')] AS value,
    evidence.value[indexOf(evidence.key, 'expected')] AS expected,
    evidence.value[indexOf(evidence.key, 'z')] AS z,
    arrayStringConcat(arrayMap((k, v) -> concat(k, '=', v), evidence.key, evidence.value), ', ') AS evidence
FROM anomalies FINAL
WHERE tenant = @tenant AND window_start >= @since AND window_start < @until
  AND (@kind = '' OR kind = @kind)
ORDER BY window_start DESC, kind, entity_id
