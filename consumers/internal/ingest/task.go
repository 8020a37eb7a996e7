package ingest

import (
	"math"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/infra/clickhouse"
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
	r, err := taskRowOf(env, p, ingest)
	if err != nil {
		return nil, err
	}
	return r.Values(), nil
}

// TaskTyped maps a task event to its typed task_events row, the same row
// as TaskValues.
func TaskTyped(env schemas.Envelope, p schemas.Payload, ingest time.Time) (clickhouse.TypedRow, error) {
	r, err := taskRowOf(env, p, ingest)
	if err != nil {
		return nil, err
	}
	return r, nil
}

// TaskRow is a task_events row as its typed columns, for the batch
// writer's column appends (clickhouse.TypedRow).
type TaskRow struct {
	ID                                            uuid.UUID
	Type, Tenant, Source, TaskID, TaskType, Queue string
	Attempt                                       uint16
	Status, Worker, ErrClass, ErrMsg              string
	Scheduled, Started, Finished                  time.Time
	Duration                                      *float64
	TraceParent                                   string
	EventTime, IngestTime                         time.Time
}

func taskRowOf(env schemas.Envelope, p schemas.Payload, ingest time.Time) (*TaskRow, error) {
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
	return &TaskRow{ID: id, Type: env.Type, Tenant: env.Tenant, Source: env.Source, TaskID: r.ref.TaskID,
		TaskType: r.ref.TaskType, Queue: r.ref.Queue, Attempt: attempt, Status: r.status, Worker: r.worker,
		ErrClass: r.errClass, ErrMsg: r.errMsg, Scheduled: dateTime(r.scheduled), Started: dateTime(r.started),
		Finished: dateTime(r.finished), Duration: r.duration, TraceParent: env.TraceParent,
		EventTime: env.Time.UTC(), IngestTime: ingest.UTC()}, nil
}

// Values is the row in TaskColumns order.
func (r *TaskRow) Values() []any {
	return []any{
		r.ID, r.Type, r.Tenant, r.Source, r.TaskID, r.TaskType, r.Queue, r.Attempt,
		r.Status, r.Worker, r.ErrClass, r.ErrMsg, r.Scheduled, r.Started, r.Finished,
		r.Duration, r.TraceParent, r.EventTime, r.IngestTime,
	}
}

// AppendColumns appends rows, all *TaskRow, in TaskColumns order.
func (*TaskRow) AppendColumns(b driver.Batch, rows []clickhouse.TypedRow) error {
	n := len(rows)
	ids := make([]uuid.UUID, 0, n)
	var strs [11][]string
	for i := range strs {
		strs[i] = make([]string, 0, n)
	}
	var times [5][]time.Time
	for i := range times {
		times[i] = make([]time.Time, 0, n)
	}
	attempts := make([]uint16, 0, n)
	durations := make([]*float64, 0, n)
	for _, tr := range rows {
		r := tr.(*TaskRow)
		ids = append(ids, r.ID)
		for i, s := range [...]string{r.Type, r.Tenant, r.Source, r.TaskID, r.TaskType, r.Queue,
			r.Status, r.Worker, r.ErrClass, r.ErrMsg, r.TraceParent} {
			strs[i] = append(strs[i], s)
		}
		for i, t := range [...]time.Time{r.Scheduled, r.Started, r.Finished, r.EventTime, r.IngestTime} {
			times[i] = append(times[i], t)
		}
		attempts = append(attempts, r.Attempt)
		durations = append(durations, r.Duration)
	}
	s, t := strs, times
	return appendColumns(b, TaskColumns, ids, s[0], s[1], s[2], s[3], s[4], s[5], attempts, s[6], s[7], s[8], s[9],
		t[0], t[1], t[2], durations, s[10], t[3], t[4])
}
