-- requires: server >= 20.1
-- param: event_retention_days = 30
-- param: anomaly_retention_days = 180
-- Events expire 30 days after their event time; anomalies (the findings,
-- far fewer rows) 180 days after their window; both periods are chosen at
-- migrate time (tributary-ingest -event-retention-days,
-- -anomaly-retention-days). Without it the event tables
-- grew until the disk was full. Expired rows are removed as parts merge.
-- TTL arrived in 19.6; the
-- gate is 20.1 as for 004. 18.16 (CI) lacks TTL, so this step is skipped
-- there (retention then means dropping old daily partitions by hand) and
-- applies the first time Migrate runs after an upgrade. On a table that
-- already holds data the server applies the TTL to existing parts in the
-- background. MODIFY TTL is idempotent.
ALTER TABLE auth_events MODIFY TTL event_time + INTERVAL {{event_retention_days}} DAY;
ALTER TABLE telemetry_metrics MODIFY TTL event_time + INTERVAL {{event_retention_days}} DAY;
ALTER TABLE task_events MODIFY TTL event_time + INTERVAL {{event_retention_days}} DAY;
ALTER TABLE telemetry_logs MODIFY TTL event_time + INTERVAL {{event_retention_days}} DAY;
ALTER TABLE telemetry_heartbeats MODIFY TTL event_time + INTERVAL {{event_retention_days}} DAY;
ALTER TABLE anomalies MODIFY TTL window_start + INTERVAL {{anomaly_retention_days}} DAY;
