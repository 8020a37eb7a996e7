package sim

import (
	"math"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// taskEventsPerTask: submitted, started and succeeded or failed; retries
// of the few failures add a little.
const taskEventsPerTask = 3

var errorClasses = []string{"timeout", "dependency", "oom", "validation"}

func (r *run) setupTasks(ti int, t Tenant) {
	if len(t.TaskTypes) == 0 || t.Hosts == 0 {
		return
	}
	r.poisson(t.Rates.Tasks, func(at time.Time) {
		k := r.rng.IntN(len(t.TaskTypes))
		ref := schemas.TaskRef{TaskID: taskID(t.Name, r.rng), TaskType: t.TaskTypes[k].Type, Queue: t.TaskTypes[k].Queue, Attempt: 1}
		trace := r.trace()
		r.emit(at, t.Name, schemas.TaskSubmitted{TaskRef: ref}, trace)
		r.runTask(ti, t, k, ref, at.Add(r.exp(20)), trace)
	})
	for _, p := range r.plans(ti, StuckTask) {
		k := t.TaskTypes[p.taskType]
		for i, id := range p.stuckIDs {
			ref := schemas.TaskRef{TaskID: id, TaskType: k.Type, Queue: k.Queue, Attempt: 1}
			started := p.stuckAt[i]
			trace := r.trace()
			r.later(started.Add(-50*time.Millisecond), t.Name, schemas.TaskSubmitted{TaskRef: ref}, trace)
			r.later(started, t.Name, schemas.TaskStarted{TaskRef: ref, Worker: hostName(t.Name, r.rng.IntN(t.Hosts)), StartedAt: started}, trace)
		}
	}
}

// runTask schedules one attempt: started at start, then succeeded or
// failed after a log-normal run time; half the failures are retried.
func (r *run) runTask(ti int, t Tenant, k int, ref schemas.TaskRef, start time.Time, trace string) {
	tt := t.TaskTypes[k]
	worker := hostName(t.Name, r.rng.IntN(t.Hosts))
	mean, failRate := float64(tt.Duration), tt.FailureRate
	for _, p := range r.plans(ti, TaskLatencyRegression, TaskFailureSpike) {
		if p.taskType != k || !p.active(start) {
			continue
		}
		if p.Kind == TaskLatencyRegression {
			mean *= p.Factor
		} else {
			failRate = p.Factor
		}
	}
	// Log-normal with σ=0.4 around the mean: positive, right-skewed, like
	// real job run times.
	const sigma = 0.4
	d := time.Duration(mean * math.Exp(sigma*r.rng.NormFloat64()-sigma*sigma/2))
	end := start.Add(d)
	run := schemas.TaskRun{Worker: worker, StartedAt: start, FinishedAt: end, DurationMS: d.Milliseconds()}
	r.later(start, t.Name, schemas.TaskStarted{TaskRef: ref, Worker: worker, StartedAt: start}, trace)
	if r.rng.Float64() >= failRate {
		r.later(end, t.Name, schemas.TaskSucceeded{TaskRef: ref, TaskRun: run}, trace)
		return
	}
	class := errorClasses[r.rng.IntN(len(errorClasses))]
	retry := ref.Attempt < 3 && r.rng.Float64() < 0.5
	r.later(end, t.Name, schemas.TaskFailed{TaskRef: ref, TaskRun: run, ErrorClass: class,
		ErrorMessage: class + " in " + tt.Type, Retryable: retry}, trace)
	if retry {
		next := ref
		next.Attempt++
		at := end.Add(200 * time.Millisecond)
		r.later(at, t.Name, schemas.TaskRetried{TaskRef: next, PreviousErrorClass: class, NextRunAt: at.Add(100 * time.Millisecond)}, trace)
		r.at(at.Add(100*time.Millisecond), func(now time.Time) { r.runTask(ti, t, k, next, now, trace) })
	}
}
