-- requires: server >= 22.8
-- 012 let the event tables drop a repeated insert block; the rollups fed
-- by their materialized views did not, so a redelivered batch was stored
-- once but counted twice per minute. A view's insert into its target is
-- deduplicated by the target's own window (with the writer's
-- deduplicate_blocks_in_dependent_materialized_views = 1), so each rollup
-- gets one too. Same gate as 012; MODIFY SETTING is idempotent.
ALTER TABLE auth_failures_1m MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE task_outcomes_1m MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE metrics_1m MODIFY SETTING non_replicated_deduplication_window = 1000;
