package ingest

import (
	"fmt"
	"sort"
	"time"

	"github.com/google/uuid"

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
		return nil, fmt.Errorf("telemetry_metrics row for %s: %w", env.Type, schemas.ErrUnknownType)
	}
	id, err := uuid.Parse(env.ID)
	if err != nil {
		return nil, fmt.Errorf("telemetry_metrics row: field \"id\": %q: %w", env.ID, schemas.ErrInvalid)
	}
	keys := make([]string, 0, len(m.Labels))
	for k := range m.Labels {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = m.Labels[k]
	}
	return []any{
		id, env.Tenant, m.Host, m.Service, m.Name, m.Value, m.Unit,
		keys, values, env.Time.UTC(), ingest.UTC(),
	}, nil
}
