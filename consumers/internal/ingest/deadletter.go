package ingest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
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
// Any bytes are a valid dead letter, so it never returns poison. A dead
// letter that cannot be stored is never acked: every writer error is
// returned, so the message is redelivered until ClickHouse takes it.
//
// Store is the terminal path of an event consumer whose dead-letter
// publish the broker refused (see router.DeadLetter).
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
	if err := d.writer.Write(msg.Context(), row...); err != nil {
		if errors.Is(err, clickhouse.ErrPermanent) {
			// Acking would drop the only copy left (the event's own
			// partition has moved on), and a String row refused for its
			// data means a bug or a changed table: stall this destination
			// loudly rather than lose what it holds.
			d.log.Error("dead letter refused by ClickHouse; not acked, it will be redelivered",
				"event_id", msg.UUID, "err", err)
		}
		return fmt.Errorf("insert dead letter %s: %w", msg.UUID, err)
	}
	return nil
}

// Metadata the terminal path adds to a dead letter it stores directly.
const (
	// MetaDeadLetterPath is "direct" on a dead letter that never reached a
	// dead-letter destination because the broker refused it.
	MetaDeadLetterPath = "tributary_dead_letter_path"
	// MetaPayloadBytes is the payload's size before truncation.
	MetaPayloadBytes = "tributary_payload_bytes"
)

// MaxDirectPayload bounds the payload Store keeps. What the broker refused
// is usually too big (a Kafka record over 1 MiB); the head of it is enough
// to see what it was, and the row stays an ordinary insert.
const MaxDirectPayload = 64 << 10

// Store writes msg to dead_letters directly, with its payload truncated to
// MaxDirectPayload: the terminal path for a poison message whose
// dead-letter publish was refused. msg carries the reason and source topic
// in Watermill's poison metadata. It returns nil only once the row is
// inserted; on an error the caller must not ack.
func (d *DeadLetters) Store(ctx context.Context, msg *message.Message) error {
	dl := msg.Copy()
	dl.Metadata.Set(MetaDeadLetterPath, "direct")
	dl.Metadata.Set(MetaPayloadBytes, strconv.Itoa(len(msg.Payload)))
	if len(dl.Payload) > MaxDirectPayload {
		dl.Payload = dl.Payload[:MaxDirectPayload]
	}
	row := DeadLetterValues(dl, d.transport, d.topic, d.now())
	if err := d.writer.Write(ctx, row...); err != nil {
		return fmt.Errorf("store dead letter %s directly: %w", msg.UUID, err)
	}
	d.log.Warn("dead letter stored directly in dead_letters: its dead-letter destination refused it",
		"event_id", msg.UUID, "payload_bytes", len(msg.Payload), "reason", msg.Metadata.Get(middleware.ReasonForPoisonedKey))
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
