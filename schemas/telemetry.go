package schemas

import "regexp"

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
	Host    string `json:"host"`
	Service string `json:"service"`
}

func (s TelemetrySource) check(c *checker) {
	c.str("host", s.Host, true)
	c.str("service", s.Service, true)
}

// PartitionKey keeps one host's telemetry in order.
func (s TelemetrySource) PartitionKey() string { return s.Host }

// metricNameRE follows the Prometheus/OpenTelemetry name charset so samples
// can be exported without renaming.
var metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:.]*$`)

// MetricSample is one observation; its timestamp is the envelope time.
type MetricSample struct {
	TelemetrySource
	Name   string            `json:"name" jsonschema:"pattern=^[a-zA-Z_:][a-zA-Z0-9_:.]*$"`
	Value  float64           `json:"value"`
	Unit   string            `json:"unit,omitempty"` // UCUM, e.g. "s", "By", "1"
	Kind   string            `json:"kind,omitempty" jsonschema:"enum=gauge,enum=counter"`
	Labels map[string]string `json:"labels,omitempty"`
}

func (MetricSample) EventType() string { return TypeMetric }
func (p MetricSample) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p MetricSample) check(c *checker) {
	p.TelemetrySource.check(c)
	if c.str("name", p.Name, true) && !metricNameRE.MatchString(p.Name) {
		c.fail("name", p.Name, ErrInvalid, "is not a valid metric name (want %s)", metricNameRE)
	}
	c.finite("value", p.Value)
	c.str("unit", p.Unit, false)
	if p.Kind != "" {
		c.enum("kind", p.Kind, "gauge", "counter")
	}
	c.stringMap("labels", p.Labels)
}

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

var severities = []string{
	string(SeverityTrace), string(SeverityDebug), string(SeverityInfo),
	string(SeverityWarn), string(SeverityError), string(SeverityFatal),
}

// LogRecord is one log line; its timestamp is the envelope time and its trace
// context the envelope's traceparent.
type LogRecord struct {
	TelemetrySource
	Severity   Severity          `json:"severity" jsonschema:"enum=trace,enum=debug,enum=info,enum=warn,enum=error,enum=fatal"`
	Body       string            `json:"body"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

func (LogRecord) EventType() string { return TypeLog }
func (p LogRecord) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p LogRecord) check(c *checker) {
	p.TelemetrySource.check(c)
	c.enum("severity", string(p.Severity), severities...)
	c.text("body", p.Body, true)
	c.stringMap("attributes", p.Attributes)
}

// Heartbeat says a service instance is alive and when to expect the next one;
// a missing heartbeat after ~2 intervals is an anomaly.
type Heartbeat struct {
	TelemetrySource
	IntervalMS int64  `json:"interval_ms" jsonschema:"minimum=1"` // time to the next heartbeat, milliseconds
	Version    string `json:"version,omitempty"`
}

func (Heartbeat) EventType() string { return TypeHeartbeat }
func (p Heartbeat) Validate() error { return validatePayload(p, DefaultLimits()) }
func (p Heartbeat) check(c *checker) {
	p.TelemetrySource.check(c)
	c.positive("interval_ms", p.IntervalMS)
	c.str("version", p.Version, false)
}
