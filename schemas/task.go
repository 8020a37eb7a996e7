package schemas

import "time"

// Task event types.
const (
	TypeTaskSubmitted = "io.tributary.task.submitted"
	TypeTaskStarted   = "io.tributary.task.started"
	TypeTaskSucceeded = "io.tributary.task.succeeded"
	TypeTaskFailed    = "io.tributary.task.failed"
	TypeTaskRetried   = "io.tributary.task.retried"
	TypeTaskCancelled = "io.tributary.task.cancelled"
	TypeTaskTimedOut  = "io.tributary.task.timed_out"
)

// TaskRef identifies one attempt of one task; every task event carries it.
// Attempt starts at 1.
type TaskRef struct {
	TaskID   string `json:"task_id" check:"required"`   // stable across attempts
	TaskType string `json:"task_type" check:"required"` // e.g. "export.csv"
	Queue    string `json:"queue" check:"required"`     // queue the task was submitted to
	Attempt  int    `json:"attempt" check:"min=1"`      // 1 for the first run
}

// PartitionKey keeps a task's lifecycle events in order.
func (r TaskRef) PartitionKey() string { return r.TaskID }

// TaskRun is when and where an attempt ran. DurationMS is carried (not only
// derived) because workers measure it with a monotonic clock, which wall-clock
// timestamps from different hosts cannot reproduce.
type TaskRun struct {
	Worker     string    `json:"worker" check:"required"`
	StartedAt  time.Time `json:"started_at" check:"required"`
	FinishedAt time.Time `json:"finished_at" check:"required,notbefore=started_at"`
	DurationMS int64     `json:"duration_ms" check:"min=0"` // measured by the worker, milliseconds
}

// TaskSubmitted: a task was enqueued. ScheduledAt is set for delayed tasks.
type TaskSubmitted struct {
	TaskRef
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	Priority    int       `json:"priority,omitempty"`
}

func (TaskSubmitted) EventType() string { return TypeTaskSubmitted }
func (p TaskSubmitted) Validate() error { return validatePayload(p, DefaultLimits()) }

// TaskStarted: a worker picked up an attempt.
type TaskStarted struct {
	TaskRef
	Worker      string    `json:"worker" check:"required"`
	ScheduledAt time.Time `json:"scheduled_at,omitzero"`
	StartedAt   time.Time `json:"started_at" check:"required"`
}

func (TaskStarted) EventType() string { return TypeTaskStarted }
func (p TaskStarted) Validate() error { return validatePayload(p, DefaultLimits()) }

// TaskSucceeded: an attempt finished without error.
type TaskSucceeded struct {
	TaskRef
	TaskRun
}

func (TaskSucceeded) EventType() string { return TypeTaskSucceeded }
func (p TaskSucceeded) Validate() error { return validatePayload(p, DefaultLimits()) }

// TaskFailed: an attempt finished with an error. ErrorClass is a short,
// low-cardinality class ("timeout", "oom", "validation") that detectors group
// by; ErrorMessage is free text.
type TaskFailed struct {
	TaskRef
	TaskRun
	ErrorClass   string `json:"error_class" check:"required"`
	ErrorMessage string `json:"error_message,omitempty" check:"text"`
	Retryable    bool   `json:"retryable,omitempty"`
}

func (TaskFailed) EventType() string { return TypeTaskFailed }
func (p TaskFailed) Validate() error { return validatePayload(p, DefaultLimits()) }

// TaskRetried: a failed attempt was rescheduled; Attempt is the new attempt
// number, so it is at least 2.
type TaskRetried struct {
	TaskRef            `check:"attempt.min=2,attempt.why=for a retry"`
	PreviousErrorClass string    `json:"previous_error_class,omitempty"`
	NextRunAt          time.Time `json:"next_run_at,omitzero"`
}

func (TaskRetried) EventType() string { return TypeTaskRetried }
func (p TaskRetried) Validate() error { return validatePayload(p, DefaultLimits()) }

// TaskCancelled: a task was cancelled before it finished. Worker is empty if
// it was cancelled while still queued.
type TaskCancelled struct {
	TaskRef
	Worker string `json:"worker,omitempty"`
	Reason string `json:"reason,omitempty"`
}

func (TaskCancelled) EventType() string { return TypeTaskCancelled }
func (p TaskCancelled) Validate() error { return validatePayload(p, DefaultLimits()) }

// TaskTimedOut: an attempt exceeded its deadline and was abandoned.
type TaskTimedOut struct {
	TaskRef
	TaskRun
	TimeoutMS int64 `json:"timeout_ms" check:"min=1"`
}

func (TaskTimedOut) EventType() string { return TypeTaskTimedOut }
func (p TaskTimedOut) Validate() error { return validatePayload(p, DefaultLimits()) }

// taskFamily: a task's lifecycle, on JetStream, stored in task_events,
// watched by the task detector.
func taskFamily() FamilyInfo {
	const table = "task_events"
	return FamilyInfo{
		Family:   FamilyTask,
		Route:    &Route{JetStream: &JetStreamTarget{Stream: "TASKS", Subject: "task.{tenant}.{name}"}},
		Detector: "taskdetect",
		Types: []TypeInfo{
			register[TaskSubmitted]("1", table),
			register[TaskStarted]("1", table),
			register[TaskSucceeded]("1", table),
			register[TaskFailed]("1", table),
			register[TaskRetried]("1", table),
			register[TaskCancelled]("1", table),
			register[TaskTimedOut]("1", table),
		},
	}
}
