package ingest

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
	"github.com/google/uuid"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// MetricsTable and MetricsColumns are telemetry_metrics; labels is a Nested
// column, written as its two parallel arrays.
const MetricsTable = "telemetry_metrics"

var MetricsColumns = []string{
	"event_id", "tenant", "host", "service", "name", "value", "unit",
	"labels.key", "labels.value", "event_time", "ingest_time",
}

// MetricValues maps a metric sample to telemetry_metrics values. Labels are
// sorted by key so a redelivered sample writes an identical row.
func MetricValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	m, ok := p.(schemas.MetricSample)
	if !ok {
		return nil, wrongType(MetricsTable, env)
	}
	id, err := eventID(MetricsTable, env)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(m.Labels)
	return []any{
		id, env.Tenant, m.Host, m.Service, m.Name, m.Value, m.Unit,
		keys, values, env.Time.UTC(), ingest.UTC(),
	}, nil
}

// LogsTable and LogsColumns are telemetry_logs.
const LogsTable = "telemetry_logs"

var LogsColumns = []string{
	"event_id", "tenant", "host", "service", "severity", "body",
	"attributes.key", "attributes.value", "event_time", "ingest_time",
}

// LogValues maps a log record to telemetry_logs values.
func LogValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	l, ok := p.(schemas.LogRecord)
	if !ok {
		return nil, wrongType(LogsTable, env)
	}
	id, err := eventID(LogsTable, env)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(l.Attributes)
	return []any{
		id, env.Tenant, l.Host, l.Service, string(l.Severity), l.Body,
		keys, values, env.Time.UTC(), ingest.UTC(),
	}, nil
}

// HeartbeatsTable and HeartbeatsColumns are telemetry_heartbeats.
const HeartbeatsTable = "telemetry_heartbeats"

var HeartbeatsColumns = []string{
	"event_id", "tenant", "host", "service", "interval_ms", "version", "event_time", "ingest_time",
}

// HeartbeatValues maps a heartbeat to telemetry_heartbeats values.
// interval_ms is UInt32: validation guarantees it is positive, and an
// interval beyond 49 days is refused rather than wrapped.
func HeartbeatValues(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error) {
	h, ok := p.(schemas.Heartbeat)
	if !ok {
		return nil, wrongType(HeartbeatsTable, env)
	}
	id, err := eventID(HeartbeatsTable, env)
	if err != nil {
		return nil, err
	}
	if h.IntervalMS > 1<<32-1 {
		return nil, fmt.Errorf("%s row: field \"interval_ms\": %d exceeds UInt32: %w", HeartbeatsTable, h.IntervalMS, schemas.ErrInvalid)
	}
	return []any{
		id, env.Tenant, h.Host, h.Service, uint32(h.IntervalMS), h.Version, env.Time.UTC(), ingest.UTC(),
	}, nil
}

// pairs turns a map into the parallel key/value arrays of a Nested column,
// sorted by key so a redelivered event writes an identical row.
func pairs(m map[string]string) (keys, values []string) {
	keys = make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	values = make([]string, len(keys))
	for i, k := range keys {
		values[i] = m[k]
	}
	return keys, values
}

// MetricRow is a telemetry_metrics row as its typed columns: the batch
// writer appends a batch of them column by column (clickhouse.TypedRow)
// instead of boxing eleven values per row. Values is MetricValues's row.
type MetricRow struct {
	ID                          uuid.UUID
	Tenant, Host, Service, Name string
	Value                       float64
	Unit                        string
	LabelKeys, LabelValues      []string
	EventTime, IngestTime       time.Time
}

// MetricTyped maps a metric sample to its typed telemetry_metrics row,
// the same row as MetricValues.
func MetricTyped(env schemas.Envelope, p schemas.Payload, ingest time.Time) (clickhouse.TypedRow, error) {
	m, ok := p.(schemas.MetricSample)
	if !ok {
		return nil, wrongType(MetricsTable, env)
	}
	id, err := eventID(MetricsTable, env)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(m.Labels)
	return &MetricRow{ID: id, Tenant: env.Tenant, Host: m.Host, Service: m.Service, Name: m.Name, Value: m.Value,
		Unit: m.Unit, LabelKeys: keys, LabelValues: values, EventTime: env.Time.UTC(), IngestTime: ingest.UTC()}, nil
}

// Values is the row in MetricsColumns order.
func (r *MetricRow) Values() []any {
	return []any{r.ID, r.Tenant, r.Host, r.Service, r.Name, r.Value, r.Unit,
		r.LabelKeys, r.LabelValues, r.EventTime, r.IngestTime}
}

// metricColumns are the typed column slices of one batch, reused.
type metricColumns struct {
	ids                      []uuid.UUID
	tenants, hosts, services []string
	names, units             []string
	values                   []float64
	eventTimes, ingestTimes  []time.Time
}

var metricColumnsPool = sync.Pool{New: func() any { return new(metricColumns) }}

// AppendColumns appends rows, all *MetricRow, in MetricsColumns order.
func (*MetricRow) AppendColumns(b driver.Batch, rows []clickhouse.TypedRow) error {
	c := metricColumnsPool.Get().(*metricColumns)
	defer func() {
		// Clear the strings so that pooled slices keep no event alive.
		clear(c.tenants)
		clear(c.hosts)
		clear(c.services)
		clear(c.names)
		clear(c.units)
		metricColumnsPool.Put(c)
	}()
	*c = metricColumns{ids: c.ids[:0], tenants: c.tenants[:0], hosts: c.hosts[:0], services: c.services[:0],
		names: c.names[:0], units: c.units[:0], values: c.values[:0], eventTimes: c.eventTimes[:0], ingestTimes: c.ingestTimes[:0]}
	for _, tr := range rows {
		r := tr.(*MetricRow)
		c.ids = append(c.ids, r.ID)
		c.tenants = append(c.tenants, r.Tenant)
		c.hosts = append(c.hosts, r.Host)
		c.services = append(c.services, r.Service)
		c.names = append(c.names, r.Name)
		c.values = append(c.values, r.Value)
		c.units = append(c.units, r.Unit)
		c.eventTimes = append(c.eventTimes, r.EventTime)
		c.ingestTimes = append(c.ingestTimes, r.IngestTime)
	}
	for i, col := range []any{c.ids, c.tenants, c.hosts, c.services, c.names, c.values, c.units, nil, nil, c.eventTimes, c.ingestTimes} {
		if col == nil {
			continue
		}
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("column %s: %w", MetricsColumns[i], err)
		}
	}
	// The Nested labels: an array per row.
	keys, values := b.Column(7), b.Column(8)
	for _, tr := range rows {
		r := tr.(*MetricRow)
		if err := keys.AppendRow(r.LabelKeys); err != nil {
			return fmt.Errorf("column %s: %w", MetricsColumns[7], err)
		}
		if err := values.AppendRow(r.LabelValues); err != nil {
			return fmt.Errorf("column %s: %w", MetricsColumns[8], err)
		}
	}
	return nil
}
