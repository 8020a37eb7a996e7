package bus

import (
	"maps"

	"github.com/ThreeDotsLabs/watermill/message"
)

// EventMetadata returns msg's metadata with the event id (the CloudEvents
// "ce_id" attribute) filled from the message UUID: both transports carry
// the id as the UUID and strip HeaderEventID from the metadata, so a
// consumer decoding an envelope from metadata needs it put back. msg is not
// changed.
func EventMetadata(msg *message.Message) message.Metadata {
	if msg.Metadata.Get(HeaderEventID) != "" || msg.UUID == "" {
		return msg.Metadata
	}
	md := make(message.Metadata, len(msg.Metadata)+1)
	maps.Copy(md, msg.Metadata)
	md.Set(HeaderEventID, msg.UUID)
	return md
}
