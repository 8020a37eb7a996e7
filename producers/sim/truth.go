package sim

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/tributary-io/tributary/schemas"
)

// Truth is one injected anomaly as a detector should report it, written one
// JSON object per line. Kind and Entity use the streaming detectors' and
// the query library's vocabulary (processors/), so scoring compares them
// as they are:
//
//	user:<name>                brute_force_user, impossible_travel, mfa_fatigue
//	ip:<addr>                  credential_stuffing
//	task:<type>/<queue>        task_failure_spike, task_latency_regression, stuck_task
//	series:<host>/<metric>     metric_spike, metric_drop
//	host:<name>                silent_host
//	service:<host>/<service>   error_log_burst
//
// A stuck_task is reported per task (task_id:<id>), so its truth lists
// those in Related; the series is the entity that names the incident.
// Related also holds other entities a detector may report for the same
// incident (e.g. the attacker's ip:<addr> of a brute force).
type Truth struct {
	Kind    Kind              `json:"kind"`
	Family  schemas.Family    `json:"family"`
	Tenant  string            `json:"tenant"`
	Entity  schemas.Entity    `json:"entity"`
	Related []schemas.Entity  `json:"related,omitempty"`
	Start   time.Time         `json:"start"`
	End     time.Time         `json:"end"`
	Details map[string]string `json:"details,omitempty"`
}

// plan is an anomaly with its targets resolved; the generator consults it.
type plan struct {
	Anomaly
	tenant     int
	start, end time.Time
	user       int // auth kinds
	host       int // telemetry kinds
	taskType   int // task kinds
	ip         string
	far        country  // impossible_travel
	stuckIDs   []string // stuck_task
	stuckAt    []time.Time
	truth      Truth
}

func newPlan(sc Scenario, w world, a Anomaly, start time.Time, rng *rand.Rand) plan {
	t, ti, _ := sc.tenant(a.Tenant)
	p := plan{Anomaly: a, tenant: ti, start: start.Add(a.At), end: start.Add(a.At + a.Duration), user: -1, host: -1, taskType: -1}
	p.truth = Truth{Kind: a.Kind, Tenant: t.Name, Start: p.start, End: p.end, Details: map[string]string{}}
	pick := func(target string, names []string) int {
		for i, n := range names {
			if n == target {
				return i
			}
		}
		return rng.IntN(len(names))
	}
	switch a.Kind {
	case BruteForceUser, CredentialStuffing, ImpossibleTravel, MFAFatigue:
		p.truth.Family = schemas.FamilyAuth
		p.user = pick(a.Target, userNames(t))
		p.ip = attackerIP(rng)
		u := w.users[ti][p.user]
		p.truth.Entity = schemas.Entity{Type: "user", ID: u.name}
		switch a.Kind {
		case CredentialStuffing:
			p.truth.Entity = schemas.Entity{Type: "ip", ID: p.ip}
			p.truth.Details["rate"] = ftoa(a.Rate)
		case ImpossibleTravel:
			p.far = farthest(u.geo)
			p.ip = fmt.Sprintf("198.51.100.%d", 1+rng.IntN(254))
			km := distanceKM(u.geo.Lat, u.geo.Lon, p.far.lat, p.far.lon)
			p.truth.Details["from_country"], p.truth.Details["to_country"] = u.geo.Country, p.far.code
			p.truth.Details["distance_km"] = ftoa(km)
			p.truth.Details["speed_kmh"] = ftoa(km / a.Duration.Hours())
			p.truth.Related = []schemas.Entity{{Type: "ip", ID: p.ip}}
		default:
			p.truth.Related = []schemas.Entity{{Type: "ip", ID: p.ip}}
			p.truth.Details["rate"] = ftoa(a.Rate)
		}
	case TaskFailureSpike, TaskLatencyRegression, StuckTask:
		p.truth.Family = schemas.FamilyTask
		p.taskType = taskTypeIndex(t, a.TaskType)
		if p.taskType < 0 {
			p.taskType = rng.IntN(len(t.TaskTypes))
		}
		k := t.TaskTypes[p.taskType]
		p.truth.Entity = schemas.Entity{Type: "task", ID: k.Type + "/" + k.Queue}
		switch a.Kind {
		case TaskFailureSpike:
			p.truth.Details["failure_rate"] = ftoa(a.Factor)
		case TaskLatencyRegression:
			p.truth.Details["factor"] = ftoa(a.Factor)
		case StuckTask:
			// They never finish, so the incident lasts to the end of the run.
			p.truth.End = start.Add(sc.Duration)
			p.truth.Details["count"] = strconv.Itoa(a.Count)
			for i := range a.Count {
				p.stuckIDs = append(p.stuckIDs, taskID(t.Name, rng))
				off := time.Duration(float64(a.Duration) * (float64(i) + rng.Float64()) / float64(a.Count))
				p.stuckAt = append(p.stuckAt, p.start.Add(off))
			}
			for i, id := range p.stuckIDs {
				p.truth.Details[fmt.Sprintf("task_id_%d", i)] = id
				p.truth.Related = append(p.truth.Related, schemas.Entity{Type: "task_id", ID: id})
			}
		}
	case MetricSpike, MetricDrop, SilentHost, ErrorLogBurst:
		p.truth.Family = schemas.FamilyTelemetry
		p.host = pick(a.Target, hostNames(t))
		h := hostName(t.Name, p.host)
		switch a.Kind {
		case MetricSpike, MetricDrop:
			if p.Metric == "" {
				p.Metric = t.Metrics[rng.IntN(len(t.Metrics))]
			}
			p.truth.Entity = schemas.Entity{Type: "series", ID: h + "/" + p.Metric}
			p.truth.Details["factor"] = ftoa(a.Factor)
		case SilentHost:
			p.truth.Entity = schemas.Entity{Type: "host", ID: h}
		case ErrorLogBurst:
			if p.Service == "" {
				p.Service = t.Services[rng.IntN(len(t.Services))]
			}
			p.truth.Entity = schemas.Entity{Type: "service", ID: h + "/" + p.Service}
			p.truth.Details["rate"] = ftoa(a.Rate)
		}
	}
	return p
}

// active says whether the plan's window holds at.
func (p *plan) active(at time.Time) bool { return !at.Before(p.start) && at.Before(p.end) }

func ftoa(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

func taskID(tenant string, rng *rand.Rand) string {
	return fmt.Sprintf("%s-task-%016x", tenant, rng.Uint64())
}
