package natsbus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/nats-io/nats.go"

	"github.com/tributary-io/tributary/infra/bus"
)

// reservedPrefix marks headers the server interprets (Nats-Msg-Id,
// Nats-Expected-Stream, ...): metadata never sets or receives them.
const reservedPrefix = "Nats-"

func toNATS(subject string, msg *message.Message) *nats.Msg {
	m := nats.NewMsg(subject)
	m.Data = msg.Payload
	for k, v := range msg.Metadata {
		if k == bus.HeaderEventID || strings.HasPrefix(k, reservedPrefix) {
			continue
		}
		m.Header.Set(k, v)
	}
	m.Header.Set(bus.HeaderEventID, msg.UUID)
	m.Header.Set(nats.MsgIdHdr, msgID(subject, msg.UUID))
	return m
}

// msgID is the Nats-Msg-Id: the event id scoped to the subject. Dedup is
// per stream, and one event may rightly go to two subjects of a stream
// (a poison-queue subject republishes the failed event with its UUID);
// an unscoped id would make the server drop the second publish as a
// duplicate. A retried publish to the same subject is still dropped.
func msgID(subject, uuid string) string {
	return uuid + "@" + subject
}

// fromNATS rebuilds a Watermill message. A message without our id header
// (a foreign publisher) falls back to Nats-Msg-Id, then to its stream
// position, so its redeliveries still deduplicate.
func fromNATS(header nats.Header, data []byte, stream string, seq uint64) *message.Message {
	id := header.Get(bus.HeaderEventID)
	if id == "" {
		id = header.Get(nats.MsgIdHdr)
	}
	if id == "" {
		id = fmt.Sprintf("nats:%s:%d", stream, seq)
	}
	md := make(message.Metadata, len(header))
	for k, vs := range header {
		if k == bus.HeaderEventID || strings.HasPrefix(k, reservedPrefix) || len(vs) == 0 {
			continue
		}
		md[k] = vs[0]
	}
	msg := message.NewMessage(id, data)
	msg.Metadata = md
	return msg
}

// consumerName derives the durable consumer's name from the group and the
// subject filter: a JetStream consumer has one filter, so one group
// subscribing to two subjects needs two consumers (as a Kafka group has
// offsets per topic). The hash keeps distinct subjects that sanitize alike
// apart.
func consumerName(durable, subject string) string {
	var b strings.Builder
	for _, r := range subject {
		switch {
		case r == '-' || r == '_' || (r >= '0' && r <= '9') || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z'):
			b.WriteRune(r)
		default:
			b.WriteRune('_')
		}
	}
	s := b.String()
	if len(s) > 64 {
		s = s[:64]
	}
	h := sha256.Sum256([]byte(subject))
	return durable + "__" + s + "__" + hex.EncodeToString(h[:4])
}
