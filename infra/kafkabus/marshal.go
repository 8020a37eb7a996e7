package kafkabus

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
)

// toRecord turns msg into a Kafka record: payload as value, metadata as
// headers (sorted, so records are byte-identical across runs), the UUID in
// bus.HeaderEventID, and the key from keyFunc.
func toRecord(topic string, msg *message.Message, keyFunc KeyFunc) (kafka.Message, error) {
	key, err := keyFunc(topic, msg)
	if err != nil {
		return kafka.Message{}, fmt.Errorf("key for message %s: %w", msg.UUID, err)
	}
	keys := make([]string, 0, len(msg.Metadata))
	for k := range msg.Metadata {
		if k != bus.HeaderEventID {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	headers := make([]kafka.Header, 0, len(keys)+1)
	headers = append(headers, kafka.Header{Key: bus.HeaderEventID, Value: []byte(msg.UUID)})
	for _, k := range keys {
		headers = append(headers, kafka.Header{Key: k, Value: []byte(msg.Metadata[k])})
	}
	return kafka.Message{Topic: topic, Key: key, Value: msg.Payload, Headers: headers}, nil
}

// fromRecord rebuilds a Watermill message. A record without the id header
// (written by a foreign producer) gets a deterministic id from its
// position, so redeliveries of it still deduplicate.
func fromRecord(rec kafka.Message) *message.Message {
	// The header values share one string rather than one allocation each:
	// a record carries a dozen, and they live as long as the message.
	n := 0
	for _, h := range rec.Headers {
		n += len(h.Value)
	}
	var all strings.Builder
	all.Grow(n)
	for _, h := range rec.Headers {
		all.Write(h.Value)
	}
	values := all.String()
	id := ""
	md := make(message.Metadata, len(rec.Headers))
	for _, h := range rec.Headers {
		v := values[:len(h.Value)]
		values = values[len(h.Value):]
		if h.Key == bus.HeaderEventID {
			id = v
			continue
		}
		md[h.Key] = v
	}
	if id == "" {
		id = fmt.Sprintf("kafka:%s:%d:%d", rec.Topic, rec.Partition, rec.Offset)
	}
	msg := message.NewMessage(id, rec.Value)
	msg.Metadata = md
	return msg
}
