package schemas

// Telemetry event types.
const (
	TypeMetric    = "io.tributary.telemetry.metric"
	TypeLog       = "io.tributary.telemetry.log"
	TypeHeartbeat = "io.tributary.telemetry.heartbeat"
)

// TelemetrySource is the host and service that emitted telemetry (not to be
// confused with the envelope's CloudEvents source, the producer). Host is the
// partition key: per-host ordering is what gap and rate detectors need.
type TelemetrySource struct {
	Host    string `json:"host" check:"required"`
	Service string `json:"service" check:"required"`
}

// PartitionKey keeps one host's telemetry in order.
func (s TelemetrySource) PartitionKey() string { return s.Host }

// MetricSample is one observation; its timestamp is the envelope time.
type MetricSample struct {
	TelemetrySource
	Name   string            `json:"name" check:"required,metricname"`
	Value  float64           `json:"value"`
	Unit   string            `json:"unit,omitempty"` // UCUM, e.g. "s", "By", "1"
	Kind   string            `json:"kind,omitempty" check:"enum=gauge|counter"`
	Labels map[string]string `json:"labels,omitempty"`
}

func (MetricSample) EventType() string { return TypeMetric }
func (p MetricSample) Validate() error { return validatePayload(p, DefaultLimits()) }

// Severity is a log record's level, the OpenTelemetry short names.
type Severity string

const (
	SeverityTrace Severity = "trace"
	SeverityDebug Severity = "debug"
	SeverityInfo  Severity = "info"
	SeverityWarn  Severity = "warn"
	SeverityError Severity = "error"
	SeverityFatal Severity = "fatal"
)

// EnumValues lists the severities the contract accepts; the validator and
// the JSON Schema documents both read it.
func (Severity) EnumValues() []string {
	return []string{
		string(SeverityTrace), string(SeverityDebug), string(SeverityInfo),
		string(SeverityWarn), string(SeverityError), string(SeverityFatal),
	}
}

// LogRecord is one log line; its timestamp is the envelope time and its trace
// context the envelope's traceparent.
type LogRecord struct {
	TelemetrySource
	Severity   Severity          `json:"severity" check:"required"`
	Body       string            `json:"body" check:"required,text"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

func (LogRecord) EventType() string { return TypeLog }
func (p LogRecord) Validate() error { return validatePayload(p, DefaultLimits()) }

// Heartbeat says a service instance is alive and when to expect the next one;
// a missing heartbeat after ~2 intervals is an anomaly.
type Heartbeat struct {
	TelemetrySource
	IntervalMS int64  `json:"interval_ms" check:"min=1"` // time to the next heartbeat, milliseconds
	Version    string `json:"version,omitempty"`
}

func (Heartbeat) EventType() string { return TypeHeartbeat }
func (p Heartbeat) Validate() error { return validatePayload(p, DefaultLimits()) }

// telemetryFamily: metrics, logs and heartbeats, each type on a Kafka
// topic and in a table of its own (high volume, one shape each), watched
// by the telemetry detector.
func telemetryFamily() FamilyInfo {
	kafkaTo := func(topic string) *Route { return &Route{Kafka: &KafkaTarget{Topic: topic}} }
	metric, log, hb := register[MetricSample]("1", "telemetry_metrics"), register[LogRecord]("1", "telemetry_logs"),
		register[Heartbeat]("1", "telemetry_heartbeats")
	metric.Route, log.Route, hb.Route = kafkaTo("telemetry.metrics"), kafkaTo("telemetry.logs"), kafkaTo("telemetry.heartbeats")
	return FamilyInfo{Family: FamilyTelemetry, Detector: "teledetect", Types: []TypeInfo{metric, log, hb}}
}
