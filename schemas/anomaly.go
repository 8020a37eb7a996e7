package schemas

import "time"

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

// EnumValues lists the severities the contract accepts; the validator and
// the JSON Schema documents both read it.
func (AnomalySeverity) EnumValues() []string {
	return []string{string(SeverityLow), string(SeverityMedium), string(SeverityHigh), string(SeverityCritical)}
}

// Entity is what an anomaly is about. Type is a token such as "user", "ip",
// "host", "host_metric", "task_type"; ID identifies it within that type, e.g.
// "web-1/cpu.usage" for a host_metric.
type Entity struct {
	Type string `json:"type" check:"required,token"`
	ID   string `json:"id" check:"required"`
}

// String is the entity's partition key, "type:id".
func (e Entity) String() string { return e.Type + ":" + e.ID }

// Anomaly is a detector's finding over a window of events of one family.
// Evidence values are strings (numbers formatted by the detector) so the sink
// stores them in one Map(String, String) column whatever the detector.
type Anomaly struct {
	// Kind becomes a NATS subject token, hence the strict charset.
	Kind            string            `json:"kind" check:"required,token"`
	Family          Family            `json:"family" check:"required"`
	Entity          Entity            `json:"entity"`
	Score           float64           `json:"score" check:"min=0"` // detector-specific, higher is more anomalous
	Severity        AnomalySeverity   `json:"severity" check:"required"`
	WindowStart     time.Time         `json:"window_start" check:"required"`
	WindowEnd       time.Time         `json:"window_end" check:"required,notbefore=window_start"`
	Detector        string            `json:"detector" check:"required"` // name of the processor that found it
	DetectorVersion string            `json:"detector_version,omitempty"`
	Evidence        map[string]string `json:"evidence,omitempty"`
	RelatedEventIDs []string          `json:"related_event_ids,omitempty" check:"required,uuid7,unique"` // ids of the events that triggered it
}

func (Anomaly) EventType() string { return TypeAnomaly }
func (p Anomaly) Validate() error { return validatePayload(p, DefaultLimits()) }

// PartitionKey keeps one entity's anomalies in order.
func (p Anomaly) PartitionKey() string { return p.Entity.String() }

// RoutingKind fills the {kind} placeholder of subject templates.
func (p Anomaly) RoutingKind() string { return p.Kind }

// anomalyFamily: what detectors find, on both transports — JetStream
// subjects per tenant and kind for live subscribers that filter, a Kafka
// topic for sinks — stored in anomalies.
func anomalyFamily() FamilyInfo {
	return FamilyInfo{
		Family: FamilyAnomaly,
		Route: &Route{
			JetStream: &JetStreamTarget{Stream: "ANOMALIES", Subject: "anomaly.{tenant}.{kind}"},
			Kafka:     &KafkaTarget{Topic: "anomalies"},
		},
		Types: []TypeInfo{register[Anomaly]("1", "anomalies")},
	}
}
