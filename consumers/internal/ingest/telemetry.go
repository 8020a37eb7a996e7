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
	m, id, err := payloadOf[schemas.MetricSample](MetricsTable, env, p)
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
	l, id, err := payloadOf[schemas.LogRecord](LogsTable, env, p)
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
	h, id, err := payloadOf[schemas.Heartbeat](HeartbeatsTable, env, p)
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
	n := len(m)
	both := make([]string, 2*n) // one allocation for the two arrays
	keys, values = both[:0:n], both[n:]
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
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
	m, id, err := payloadOf[schemas.MetricSample](MetricsTable, env, p)
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
	if err := appendColumns(b, MetricsColumns, c.ids, c.tenants, c.hosts, c.services, c.names, c.values, c.units, nil, nil, c.eventTimes, c.ingestTimes); err != nil {
		return err
	}
	return appendNested(b, MetricsColumns, 7, rows, func(r clickhouse.TypedRow) ([]string, []string) {
		m := r.(*MetricRow)
		return m.LabelKeys, m.LabelValues
	})
}

// LogRow is a telemetry_logs row as its typed columns (see MetricRow).
type LogRow struct {
	ID                                    uuid.UUID
	Tenant, Host, Service, Severity, Body string
	AttrKeys, AttrValues                  []string
	EventTime, IngestTime                 time.Time
}

// LogTyped maps a log record to its typed telemetry_logs row, the same
// row as LogValues.
func LogTyped(env schemas.Envelope, p schemas.Payload, ingest time.Time) (clickhouse.TypedRow, error) {
	l, id, err := payloadOf[schemas.LogRecord](LogsTable, env, p)
	if err != nil {
		return nil, err
	}
	keys, values := pairs(l.Attributes)
	return &LogRow{ID: id, Tenant: env.Tenant, Host: l.Host, Service: l.Service, Severity: string(l.Severity), Body: l.Body,
		AttrKeys: keys, AttrValues: values, EventTime: env.Time.UTC(), IngestTime: ingest.UTC()}, nil
}

// Values is the row in LogsColumns order.
func (r *LogRow) Values() []any {
	return []any{r.ID, r.Tenant, r.Host, r.Service, r.Severity, r.Body, r.AttrKeys, r.AttrValues, r.EventTime, r.IngestTime}
}

// AppendColumns appends rows, all *LogRow, in LogsColumns order.
func (*LogRow) AppendColumns(b driver.Batch, rows []clickhouse.TypedRow) error {
	n := len(rows)
	ids := make([]uuid.UUID, 0, n)
	var strs [5][]string
	for i := range strs {
		strs[i] = make([]string, 0, n)
	}
	times := [2][]time.Time{make([]time.Time, 0, n), make([]time.Time, 0, n)}
	for _, tr := range rows {
		r := tr.(*LogRow)
		ids = append(ids, r.ID)
		for i, s := range [...]string{r.Tenant, r.Host, r.Service, r.Severity, r.Body} {
			strs[i] = append(strs[i], s)
		}
		times[0], times[1] = append(times[0], r.EventTime), append(times[1], r.IngestTime)
	}
	if err := appendColumns(b, LogsColumns, ids, strs[0], strs[1], strs[2], strs[3], strs[4], nil, nil, times[0], times[1]); err != nil {
		return err
	}
	return appendNested(b, LogsColumns, 6, rows, func(r clickhouse.TypedRow) ([]string, []string) {
		l := r.(*LogRow)
		return l.AttrKeys, l.AttrValues
	})
}

// HeartbeatRow is a telemetry_heartbeats row as its typed columns (see
// MetricRow).
type HeartbeatRow struct {
	ID                    uuid.UUID
	Tenant, Host, Service string
	IntervalMS            uint32
	Version               string
	EventTime, IngestTime time.Time
}

// HeartbeatTyped maps a heartbeat to its typed telemetry_heartbeats row,
// the same row as HeartbeatValues (and the same refusals).
func HeartbeatTyped(env schemas.Envelope, p schemas.Payload, ingest time.Time) (clickhouse.TypedRow, error) {
	vals, err := HeartbeatValues(env, p, ingest)
	if err != nil {
		return nil, err
	}
	h := p.(schemas.Heartbeat)
	return &HeartbeatRow{ID: vals[0].(uuid.UUID), Tenant: env.Tenant, Host: h.Host, Service: h.Service,
		IntervalMS: uint32(h.IntervalMS), Version: h.Version, EventTime: env.Time.UTC(), IngestTime: ingest.UTC()}, nil
}

// Values is the row in HeartbeatsColumns order.
func (r *HeartbeatRow) Values() []any {
	return []any{r.ID, r.Tenant, r.Host, r.Service, r.IntervalMS, r.Version, r.EventTime, r.IngestTime}
}

// AppendColumns appends rows, all *HeartbeatRow, in HeartbeatsColumns order.
func (*HeartbeatRow) AppendColumns(b driver.Batch, rows []clickhouse.TypedRow) error {
	n := len(rows)
	ids := make([]uuid.UUID, 0, n)
	var strs [4][]string
	for i := range strs {
		strs[i] = make([]string, 0, n)
	}
	intervals := make([]uint32, 0, n)
	times := [2][]time.Time{make([]time.Time, 0, n), make([]time.Time, 0, n)}
	for _, tr := range rows {
		r := tr.(*HeartbeatRow)
		ids = append(ids, r.ID)
		for i, s := range [...]string{r.Tenant, r.Host, r.Service, r.Version} {
			strs[i] = append(strs[i], s)
		}
		intervals = append(intervals, r.IntervalMS)
		times[0], times[1] = append(times[0], r.EventTime), append(times[1], r.IngestTime)
	}
	return appendColumns(b, HeartbeatsColumns, ids, strs[0], strs[1], strs[2], intervals, strs[3], times[0], times[1])
}

// appendColumns appends one typed slice per column, in names' order; a nil
// slice skips its column (a Nested pair, appended by appendNested).
func appendColumns(b driver.Batch, names []string, cols ...any) error {
	for i, col := range cols {
		if col == nil {
			continue
		}
		if err := b.Column(i).Append(col); err != nil {
			return fmt.Errorf("column %s: %w", names[i], err)
		}
	}
	return nil
}

// appendNested appends a Nested column's two arrays (at k and k+1), one
// pair per row: the driver takes them row by row.
func appendNested(b driver.Batch, names []string, k int, rows []clickhouse.TypedRow, pair func(clickhouse.TypedRow) ([]string, []string)) error {
	keys, values := b.Column(k), b.Column(k+1)
	for _, r := range rows {
		ks, vs := pair(r)
		if err := keys.AppendRow(ks); err != nil {
			return fmt.Errorf("column %s: %w", names[k], err)
		}
		if err := values.AppendRow(vs); err != nil {
			return fmt.Errorf("column %s: %w", names[k+1], err)
		}
	}
	return nil
}
