package ingest

import (
	"fmt"
	"sort"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// MetricsTable and MetricsColumns are telemetry_metrics; labels is a Nested
// column, written as its two parallel arrays.
const MetricsTable = "telemetry_metrics"

var MetricsColumns = []string{
	"event_id", "tenant", "host", "service", "name", "value", "unit",
	"labels.key", "labels.value", "event_time", "ingest_time",
}

// MetricValues maps a metric sample to telemetry_metrics values. Labels are
// sorted by key so a redelivered sample writes an identical row.
func MetricValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	m, ok := p.(schemas.MetricSample)
	if !ok {
		return nil, wrongType(MetricsTable, env)
	}
	id, err := eventID(MetricsTable, env)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(m.Labels)
	return []any{
		id, env.Tenant, m.Host, m.Service, m.Name, m.Value, m.Unit,
		keys, values, env.Time.UTC(), ingest.UTC(),
	}, nil
}

// LogsTable and LogsColumns are telemetry_logs.
const LogsTable = "telemetry_logs"

var LogsColumns = []string{
	"event_id", "tenant", "host", "service", "severity", "body",
	"attributes.key", "attributes.value", "event_time", "ingest_time",
}

// LogValues maps a log record to telemetry_logs values.
func LogValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	l, ok := p.(schemas.LogRecord)
	if !ok {
		return nil, wrongType(LogsTable, env)
	}
	id, err := eventID(LogsTable, env)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(l.Attributes)
	return []any{
		id, env.Tenant, l.Host, l.Service, string(l.Severity), l.Body,
		keys, values, env.Time.UTC(), ingest.UTC(),
	}, nil
}

// HeartbeatsTable and HeartbeatsColumns are telemetry_heartbeats.
const HeartbeatsTable = "telemetry_heartbeats"

var HeartbeatsColumns = []string{
	"event_id", "tenant", "host", "service", "interval_ms", "version", "event_time", "ingest_time",
}

// HeartbeatValues maps a heartbeat to telemetry_heartbeats values.
// interval_ms is UInt32: validation guarantees it is positive, and an
// interval beyond 49 days is refused rather than wrapped.
func HeartbeatValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	h, ok := p.(schemas.Heartbeat)
	if !ok {
		return nil, wrongType(HeartbeatsTable, env)
	}
	id, err := eventID(HeartbeatsTable, env)
	if err != nil {
		return nil, err
	}
	if h.IntervalMS > 1<<32-1 {
		return nil, fmt.Errorf("%s row: field \"interval_ms\": %d exceeds UInt32: %w", HeartbeatsTable, h.IntervalMS, schemas.ErrInvalid)
	}
	return []any{
		id, env.Tenant, h.Host, h.Service, uint32(h.IntervalMS), h.Version, env.Time.UTC(), ingest.UTC(),
	}, nil
}

// pairs turns a map into the parallel key/value arrays of a Nested column,
// sorted by key so a redelivered event writes an identical row.
func pairs(m map[string]string) (keys, values []string) {
	keys = make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values = make([]string, len(keys))
	for i, k := range keys {
		values[i] = m[k]
	}
	return keys, values
}
