-- Authentication and authorization events, one row per event.
--
-- ReplacingMergeTree(ingest_time): a redelivered event is inserted again with
-- a later ingest_time; every sort-key column comes from the event itself, so
-- both copies share a key and collapse (keeping the latest ingest). Read with
-- `FROM auth_events FINAL` or `uniqExact(event_id)` for an exactly-once view.
--
-- PARTITION BY day: the anomaly queries look at recent windows (minutes to
-- hours), so they touch one or two partitions; retention drops whole days.
--
-- ORDER BY (tenant, user_id, event_time, event_id):
--   tenant             every query is per tenant (isolation, and the first
--                      range cut);
--   user_id            brute force per user: failures per user_id in the last
--                      N minutes, impossible travel (country/lat/long per
--                      user over time) read one contiguous range per user;
--   event_time         the window inside a user's range, and time order for
--                      sequenceMatch / windowFunnel (fail, fail, success);
--   event_id           tie-break, so two distinct events of one user in the
--                      same second never collapse into one.
-- Brute force per source_ip scans the tenant's rows of the window's
-- partitions (source_ip is not in the key); a later, version-gated step can
-- add a bloom_filter skip index or an IP-keyed aggregate if that gets slow.
CREATE TABLE IF NOT EXISTS auth_events
(
    event_id       UUID,
    event_type     String,
    tenant         String,
    source         String,
    subject        String,
    user_id        String,
    source_ip      String,
    user_agent     String,
    country        String,
    latitude       Nullable(Float64),
    longitude      Nullable(Float64),
    method         String,
    outcome        String,
    failure_reason String,
    role           String,
    resource       String,
    action         String,
    trace_parent   String,
    event_time     DateTime,
    ingest_time    DateTime
)
ENGINE = ReplacingMergeTree(ingest_time)
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (tenant, user_id, event_time, event_id);
