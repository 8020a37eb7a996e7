package ingest

import (
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/tributary-io/tributary/infra/clickhouse"
	"github.com/tributary-io/tributary/schemas"
)

// DeadLettersTable and DeadLettersColumns are dead_letters.
const DeadLettersTable = "dead_letters"

var DeadLettersColumns = []string{
	"event_id", "family", "transport", "topic", "reason", "headers.key", "headers.value",
	"payload", "event_time", "ingest_time",
}

// DeadLetters is the handler of the dead-letter consumer group: it stores
// every message of a dlq.<family> destination in dead_letters verbatim.
// Any bytes are a valid dead letter, so it never returns poison; its only
// errors are the writer's (ClickHouse down), which are retried.
type DeadLetters struct {
	writer    Writer
	transport schemas.Transport
	topic     string
	log       *slog.Logger
	now       func() time.Time
}

// NewDeadLetters builds the handler for dead letters arriving on transport
// from topic (a Kafka topic or JetStream subject filter).
func NewDeadLetters(w Writer, transport schemas.Transport, topic string, log *slog.Logger) *DeadLetters {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DeadLetters{writer: w, transport: transport, topic: topic, log: log, now: time.Now}
}

// Handle is a message.NoPublishHandlerFunc.
func (d *DeadLetters) Handle(msg *message.Message) error {
	row := DeadLetterValues(msg, d.transport, d.topic, d.now())
	err := d.writer.Write(msg.Context(), row...)
	if errors.Is(err, clickhouse.ErrPermanent) {
		// There is no further queue to send it to, and retrying a refused row
		// would block the topic forever. The dead letter stays on the broker
		// (its dlq destination keeps it for the stream's retention).
		d.log.Error("dead letter refused by ClickHouse; it remains on the broker only",
			"event_id", msg.UUID, "err", err)
		return nil
	}
	if err != nil {
		return fmt.Errorf("insert dead letter %s: %w", msg.UUID, err)
	}
	return nil
}

// DeadLetterValues maps a dead-lettered message to dead_letters values.
// The router's poison queue added why and where it failed
// (reason_poisoned, topic_poisoned); every header is kept, sorted, so the
// event can be replayed exactly. family comes from the event type when it
// names a known family, else from the dlq.<family> topic it arrived on
// (subscribed topic, not a wildcard).
// event_time is when it was stored: the event's own time may be missing or
// the very reason it was refused.
func DeadLetterValues(msg *message.Message, transport schemas.Transport, topic string, now time.Time) []any {
	md := msg.Metadata
	family := schemas.FamilyOf(md.Get(schemas.MetaType))
	if family == schemas.FamilyUnknown || family == "" {
		if f := familyFromTopic(topic); f != "" {
			family = schemas.Family(f)
		}
	}
	if family == "" {
		family = schemas.FamilyUnknown
	}
	keys := slices.Sorted(maps.Keys(md))
	values := make([]string, len(keys))
	for i, k := range keys {
		values[i] = md[k]
	}
	now = now.UTC()
	return []any{
		msg.UUID, string(family), string(transport), md.Get(middleware.PoisonedTopicKey),
		md.Get(middleware.ReasonForPoisonedKey), keys, values, string(msg.Payload), now, now,
	}
}

// familyFromTopic reads <family> from "dlq.<family>"; "" for anything else.
func familyFromTopic(topic string) string {
	f, ok := strings.CutPrefix(topic, "dlq.")
	if !ok || f == "" || strings.ContainsAny(f, ".*>") {
		return ""
	}
	return f
}
