package ingest

import (
	"math"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// TaskTable and TaskColumns are task_events.
const TaskTable = "task_events"

var TaskColumns = []string{
	"event_id", "event_type", "tenant", "source", "task_id", "task_type", "queue", "attempt",
	"status", "worker", "error_class", "error_message", "scheduled_at", "started_at", "finished_at",
	"duration_ms", "trace_parent", "event_time", "ingest_time",
}

// taskRow is one task_events row; each payload type fills what it has.
type taskRow struct {
	ref                              schemas.TaskRef
	status, worker, errClass, errMsg string
	scheduled, started, finished     time.Time
	duration                         *float64
}

func (r *taskRow) run(run schemas.TaskRun) {
	r.worker, r.started, r.finished = run.Worker, run.StartedAt, run.FinishedAt
	d := float64(run.DurationMS)
	r.duration = &d
}

// TaskValues maps a task lifecycle event to task_events values. status is
// the event's name (submitted, failed, timed_out…), so outcome queries group
// by one column. duration_ms is set only when the attempt finished.
func TaskValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	var r taskRow
	switch p := p.(type) {
	case schemas.TaskSubmitted:
		r.ref, r.status, r.scheduled = p.TaskRef, "submitted", p.ScheduledAt
	case schemas.TaskStarted:
		r.ref, r.status, r.worker, r.scheduled, r.started = p.TaskRef, "started", p.Worker, p.ScheduledAt, p.StartedAt
	case schemas.TaskSucceeded:
		r.ref, r.status = p.TaskRef, "succeeded"
		r.run(p.TaskRun)
	case schemas.TaskFailed:
		r.ref, r.status, r.errClass, r.errMsg = p.TaskRef, "failed", p.ErrorClass, p.ErrorMessage
		r.run(p.TaskRun)
	case schemas.TaskRetried:
		r.ref, r.status, r.errClass, r.scheduled = p.TaskRef, "retried", p.PreviousErrorClass, p.NextRunAt
	case schemas.TaskCancelled:
		r.ref, r.status, r.worker, r.errMsg = p.TaskRef, "cancelled", p.Worker, p.Reason
	case schemas.TaskTimedOut:
		r.ref, r.status = p.TaskRef, "timed_out"
		r.run(p.TaskRun)
	default:
		return nil, wrongType(TaskTable, env)
	}
	id, err := eventID(TaskTable, env)
	if err != nil {
		return nil, err
	}
	// attempt is UInt16; a larger count is clamped rather than wrapped.
	attempt := uint16(min(r.ref.Attempt, math.MaxUint16))
	return []any{
		id, env.Type, env.Tenant, env.Source, r.ref.TaskID, r.ref.TaskType, r.ref.Queue, attempt,
		r.status, r.worker, r.errClass, r.errMsg, dateTime(r.scheduled), dateTime(r.started), dateTime(r.finished),
		r.duration, env.TraceParent, env.Time.UTC(), ingest.UTC(),
	}, nil
}
