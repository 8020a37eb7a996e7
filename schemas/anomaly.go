package schemas

import (
	"fmt"
	"slices"
	"time"
)

// TypeAnomaly is the one type processors emit; Kind says which anomaly.
const TypeAnomaly = "io.tributary.anomaly.detected"

// AnomalySeverity ranks anomalies for alerting.
type AnomalySeverity string

const (
	SeverityLow      AnomalySeverity = "low"
	SeverityMedium   AnomalySeverity = "medium"
	SeverityHigh     AnomalySeverity = "high"
	SeverityCritical AnomalySeverity = "critical"
)

var anomalySeverities = []string{
	string(SeverityLow), string(SeverityMedium), string(SeverityHigh), string(SeverityCritical),
}

// Entity is what an anomaly is about. Type is a token such as "user", "ip",
// "host", "host_metric", "task_type"; ID identifies it within that type, e.g.
// "web-1/cpu.usage" for a host_metric.
type Entity struct {
	Type string `json:"type" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	ID   string `json:"id"`
}

// String is the entity's partition key, "type:id".
func (e Entity) String() string { return e.Type + ":" + e.ID }

// Anomaly is a detector's finding over a window of events of one family.
// Evidence values are strings (numbers formatted by the detector) so the sink
// stores them in one Map(String, String) column whatever the detector.
type Anomaly struct {
	Kind            string            `json:"kind" jsonschema:"pattern=^[a-z0-9][a-z0-9_-]*$"`
	Family          Family            `json:"family" jsonschema:"enum=auth,enum=task,enum=telemetry,enum=anomaly"`
	Entity          Entity            `json:"entity"`
	Score           float64           `json:"score" jsonschema:"minimum=0"` // detector-specific, higher is more anomalous
	Severity        AnomalySeverity   `json:"severity" jsonschema:"enum=low,enum=medium,enum=high,enum=critical"`
	WindowStart     time.Time         `json:"window_start"`
	WindowEnd       time.Time         `json:"window_end"`
	Detector        string            `json:"detector"` // name of the processor that found it
	DetectorVersion string            `json:"detector_version,omitempty"`
	Evidence        map[string]string `json:"evidence,omitempty"`
	RelatedEventIDs []string          `json:"related_event_ids,omitempty"` // ids of the events that triggered it
}

func (Anomaly) EventType() string { return TypeAnomaly }
func (p Anomaly) Validate() error { return validatePayload(p, DefaultLimits()) }

// PartitionKey keeps one entity's anomalies in order.
func (p Anomaly) PartitionKey() string { return p.Entity.String() }

// RoutingKind fills the {kind} placeholder of subject templates.
func (p Anomaly) RoutingKind() string { return p.Kind }

func (p Anomaly) check(c *checker) {
	// Kind becomes a NATS subject token, hence the strict charset.
	c.token("kind", p.Kind, true)
	fams := make([]string, 0, 4)
	for _, f := range Families() {
		fams = append(fams, string(f))
	}
	c.enum("family", string(p.Family), fams...)
	c.token("entity.type", p.Entity.Type, true)
	c.str("entity.id", p.Entity.ID, true)
	c.finite("score", p.Score)
	if p.Score < 0 {
		c.fail("score", fmt.Sprint(p.Score), ErrInvalid, "must not be negative")
	}
	c.enum("severity", string(p.Severity), anomalySeverities...)
	c.timeSet("window_start", p.WindowStart)
	c.timeSet("window_end", p.WindowEnd)
	c.notBefore("window_end", p.WindowEnd, "window_start", p.WindowStart)
	c.str("detector", p.Detector, true)
	c.str("detector_version", p.DetectorVersion, false)
	c.stringMap("evidence", p.Evidence)
	if c.list("related_event_ids", len(p.RelatedEventIDs)) {
		for i, id := range p.RelatedEventIDs {
			c.uuidV7(fmt.Sprintf("related_event_ids[%d]", i), id, true)
		}
		if dup := firstDuplicate(p.RelatedEventIDs); dup != "" {
			c.fail("related_event_ids", dup, ErrInvalid, "is listed twice")
		}
	}
}

func firstDuplicate(ids []string) string {
	s := slices.Clone(ids)
	slices.Sort(s)
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return s[i]
		}
	}
	return ""
}
