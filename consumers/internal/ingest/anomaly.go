package ingest

import (
	"fmt"
	"slices"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// AnomaliesTable and AnomaliesColumns are anomalies.
const AnomaliesTable = "anomalies"

var AnomaliesColumns = []string{
	"event_id", "tenant", "kind", "family", "entity_type", "entity_id", "score", "severity",
	"window_start", "window_end", "detector", "detector_version", "evidence.key", "evidence.value",
	"related_event_ids", "event_time", "ingest_time",
}

// maxWindowAge bounds how far before its own event time an anomaly's
// window may start. anomalies is partitioned by window_start, not by the
// event time that Limits.MaxPast bounds, so without this one replayed
// finding about last year could make a batch span hundreds of partitions.
const maxWindowAge = 7 * 24 * time.Hour

// AnomalyValues maps a detector finding to anomalies values.
func AnomalyValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	a, ok := p.(schemas.Anomaly)
	if !ok {
		return nil, wrongType(AnomaliesTable, env)
	}
	if env.Time.Sub(a.WindowStart) > maxWindowAge {
		return nil, fmt.Errorf("%s row: field \"window_start\": %s is more than %s before the event: %w",
			AnomaliesTable, a.WindowStart.UTC().Format(time.RFC3339), maxWindowAge, schemas.ErrClockSkew)
	}
	id, err := eventID(AnomaliesTable, env)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(a.Evidence)
	related := slices.Clone(a.RelatedEventIDs)
	if related == nil {
		related = []string{}
	}
	return []any{
		id, env.Tenant, a.Kind, string(a.Family), a.Entity.Type, a.Entity.ID, a.Score, string(a.Severity),
		a.WindowStart.UTC(), a.WindowEnd.UTC(), a.Detector, a.DetectorVersion, keys, values,
		related, env.Time.UTC(), ingest.UTC(),
	}, nil
}
