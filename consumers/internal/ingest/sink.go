// Package ingest turns bus messages into ClickHouse rows: decode and
// validate the event, map it to its table's columns, and hand it to the
// table's batch writer. It knows nothing of transports. See doc.go for the
// delivery guarantees and the exactly-once read.
package ingest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/tributary-io/tributary/infra/bus"
	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// Writer is the batch writer contract: Write returns once the row is durably
// inserted, or with the reason it never will be. *clickhouse.BatchWriter
// implements it.
type Writer interface {
	Write(ctx context.Context, row ...any) error
}

// ValuesFunc maps a validated event to its table's values, in column order.
type ValuesFunc func(env schemas.Envelope, p schemas.Payload, ingest time.Time) ([]any, error)

// TypedFunc maps a validated event to its table's row as a typed row, which
// the batch writer appends column by column (clickhouse.WriteRowAsync).
type TypedFunc func(env schemas.Envelope, p schemas.Payload, ingest time.Time) (clickhouse.TypedRow, error)

// Sink is the Watermill handler for one table. Its Handle returns only after
// the row is inserted, so the router acks a message only once it is durable.
type Sink struct {
	table  string
	writer Writer
	values ValuesFunc
	limits schemas.Limits
	now    func() time.Time
	// Fresh, if set, is told how old each event is once its row is in:
	// from the event's time to the insert, the freshness an analyst sees.
	Fresh func(age time.Duration)
	// CheckOrigin, if set, judges the event against where it arrived (its
	// subject or topic, bus.Origin): an error is the event's own fault and
	// makes it poison, like a decode error (a tenant header that is not
	// its subject's tenant).
	CheckOrigin func(env schemas.Envelope, origin string) error
	// Positions passes each message's place in its log (bus.Position) to
	// the writer, for batches a replay rebuilds (clickhouse.WithPosition).
	// Off unless the writer uses them: on JetStream reading it costs a parse.
	Positions bool
	// Typed, if set, makes Row's row typed (Row.Typed) instead of Values:
	// the same row, without a boxed value per column.
	Typed TypedFunc
}

// NewSink builds the handler for one table.
func NewSink(table string, w Writer, values ValuesFunc, limits schemas.Limits) *Sink {
	return &Sink{table: table, writer: w, values: values, limits: limits, now: time.Now}
}

// Handle is a message.NoPublishHandlerFunc.
func (s *Sink) Handle(msg *message.Message) error {
	r, err := s.Row(msg)
	if err != nil {
		return err
	}
	vals := r.Values
	if r.Typed != nil {
		vals = r.Typed.Values()
	}
	if err := s.writer.Write(r.Ctx, vals...); err != nil {
		return fmt.Errorf("insert %s into %s: %w", r.EventID, s.table, err)
	}
	s.Inserted(r)
	return nil
}

// Row is one message made into its table's row, ready for the writer.
type Row struct {
	Values    []any               // the row, unless Typed is set
	Typed     clickhouse.TypedRow // the row, when Sink.Typed is set
	Ctx       context.Context     // the message's, with its position when Positions is set
	EventID   string
	EventTime time.Time
}

// Row decodes and validates msg and maps it to its row. An error is the
// event's own fault (IsPoison) and never a server's: Row does no I/O.
func (s *Sink) Row(msg *message.Message) (Row, error) {
	now := s.now()
	// The id travels as the UUID (bus.EventMetadata), put in without a copy.
	env, p, err := schemas.DecodeWithID(msg.Metadata, msg.UUID, msg.Payload, now, s.limits)
	if err != nil {
		return Row{}, fmt.Errorf("decode event for %s: %w", s.table, err)
	}
	ctx := msg.Context()
	if s.CheckOrigin != nil {
		if origin, ok := bus.Origin(ctx); ok {
			if err := s.CheckOrigin(env, origin); err != nil {
				return Row{}, fmt.Errorf("event %s for %s: %w", env.ID, s.table, err)
			}
		}
	}
	var (
		vals  []any
		typed clickhouse.TypedRow
	)
	if s.Typed != nil {
		typed, err = s.Typed(env, p, now)
	} else {
		vals, err = s.values(env, p, now)
	}
	if err != nil {
		return Row{}, err
	}
	if s.Positions {
		if key, seq, ok := bus.Position(ctx); ok {
			ctx = clickhouse.WithPosition(ctx, clickhouse.Position{Key: key, Seq: seq})
		}
	}
	return Row{Values: vals, Typed: typed, Ctx: ctx, EventID: env.ID, EventTime: env.Time}, nil
}

// Inserted tells Fresh that r is in its table.
func (s *Sink) Inserted(r Row) {
	if s.Fresh != nil {
		s.Fresh(s.now().Sub(r.EventTime))
	}
}

// Table is the table the sink fills.
func (s *Sink) Table() string { return s.table }

// IsPoison says whether err means the message can never succeed: the event
// breaks its contract, or ClickHouse refuses the row itself. Everything else
// (ClickHouse or a broker unreachable, a timeout) is retried instead, so a
// good event is never dead-lettered because a server was down.
func IsPoison(err error) bool {
	return errors.Is(err, schemas.ErrInvalid) || errors.Is(err, clickhouse.ErrPermanent)
}

var _ Writer = (*clickhouse.BatchWriter)(nil)
