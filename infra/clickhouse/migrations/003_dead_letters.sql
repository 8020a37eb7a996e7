-- Events that could not be processed: kept verbatim for inspection and
-- replay. event_id is a String because the id may be missing or not a UUID
-- (that can be the very reason for dead-lettering).
--
-- Plain MergeTree: no key identifies a dead letter reliably, and seeing every
-- failed delivery attempt is useful here.
--
-- ORDER BY (family, event_time): "what failed for auth in the last hour" and
-- counts per family and reason over time; event_time is when the event was
-- dead-lettered.
CREATE TABLE IF NOT EXISTS dead_letters
(
    event_id    String,
    family      String,
    transport   String,
    topic       String,
    reason      String,
    headers     Nested(key String, value String),
    payload     String,
    event_time  DateTime,
    ingest_time DateTime
)
ENGINE = MergeTree()
PARTITION BY toYYYYMMDD(event_time)
ORDER BY (family, event_time);
