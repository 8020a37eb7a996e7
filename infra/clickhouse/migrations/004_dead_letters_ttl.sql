-- requires: server >= 20.1
-- Dead letters older than 90 days are dropped by the server. TTL does not
-- exist on 18.16 (CI), so this step is skipped there and applies the first
-- time Migrate runs after an upgrade. MODIFY TTL is idempotent.
ALTER TABLE dead_letters MODIFY TTL event_time + INTERVAL 90 DAY;
