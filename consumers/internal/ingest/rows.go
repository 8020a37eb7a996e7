package ingest

import (
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/tributary-io/tributary/schemas"
)

// Table is one ClickHouse table and how an event becomes its row: the
// columns, in the order Values returns them. Typed, when set, makes the
// same row typed, for the batch path (Sink.Typed).
type Table struct {
	Name    string
	Columns []string
	Values  ValuesFunc
	Typed   TypedFunc
}

// Tables lists every event table the ingest groups fill.
func Tables() []Table {
	return []Table{
		{AuthTable, AuthColumns, AuthValues, AuthTyped},
		{TaskTable, TaskColumns, TaskValues, TaskTyped},
		{MetricsTable, MetricsColumns, MetricValues, MetricTyped},
		{LogsTable, LogsColumns, LogValues, LogTyped},
		{HeartbeatsTable, HeartbeatsColumns, HeartbeatValues, HeartbeatTyped},
		{AnomaliesTable, AnomaliesColumns, AnomalyValues, nil},
	}
}

// wrongType is the error for an event that reached another table's
// subscription: a routing mistake the event itself cannot recover from, so
// it is poison (it wraps ErrUnknownType, hence ErrInvalid).
func wrongType(table string, env schemas.Envelope) error {
	return fmt.Errorf("%s row for %s: %w", table, env.Type, schemas.ErrUnknownType)
}

// payloadOf is the payload as the type a table's row is made from, and the
// event's id, or the error that names what is wrong with either.
func payloadOf[T schemas.Payload](table string, env schemas.Envelope, p schemas.Payload) (T, uuid.UUID, error) {
	v, ok := p.(T)
	if !ok {
		var zero T
		return zero, uuid.UUID{}, wrongType(table, env)
	}
	id, err := eventID(table, env)
	return v, id, err
}

func eventID(table string, env schemas.Envelope) (uuid.UUID, error) {
	id, err := uuid.Parse(env.ID)
	if err != nil {
		return uuid.UUID{}, fmt.Errorf("%s row: field \"id\": %q: %w", table, env.ID, schemas.ErrInvalid)
	}
	return id, nil
}

// dateTime is a time for a DateTime column: UTC, and the zero time for an
// unset one (ClickHouse's 1970-01-01 00:00:00), never Go's year 1, which
// DateTime cannot hold.
func dateTime(t time.Time) time.Time {
	if t.IsZero() {
		return time.Unix(0, 0).UTC()
	}
	return t.UTC()
}
