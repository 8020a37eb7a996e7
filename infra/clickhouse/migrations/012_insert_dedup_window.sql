-- requires: server >= 22.8
-- Lets a non-replicated MergeTree remember the hashes of its last 1000
-- inserted blocks, so an INSERT retried after the server committed it (the
-- BatchWriter's at-least-once case: the response was lost) is dropped
-- instead of stored twice, and so inserts carrying insert_deduplication_token
-- are deduplicated by that token. Both exist since 22.2; 22.8 (LTS) is the
-- conservative gate. 18.16 (CI) lacks the setting, so this step is skipped
-- there and applies after an upgrade; FINAL / uniqExact(event_id) stay the
-- exactly-once read either way. MODIFY SETTING is idempotent.
ALTER TABLE auth_events MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE telemetry_metrics MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE task_events MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE telemetry_logs MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE telemetry_heartbeats MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE anomalies MODIFY SETTING non_replicated_deduplication_window = 1000;
