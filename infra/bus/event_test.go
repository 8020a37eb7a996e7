package bus

import (
	"testing"

	"github.com/ThreeDotsLabs/watermill/message"
)

func TestEventMetadata(t *testing.T) {
	tests := []struct {
		name   string
		uuid   string
		md     message.Metadata
		wantID string
	}{
		{name: "id filled from the UUID", uuid: "u1", md: message.Metadata{"ce_type": "x"}, wantID: "u1"},
		{name: "an id in metadata is kept", uuid: "u1", md: message.Metadata{HeaderEventID: "m1"}, wantID: "m1"},
		{name: "no UUID leaves it empty", md: message.Metadata{}, wantID: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg := message.NewMessage(tt.uuid, nil)
			msg.Metadata = tt.md
			got := EventMetadata(msg)
			if got.Get(HeaderEventID) != tt.wantID {
				t.Fatalf("ce_id = %q, want %q", got.Get(HeaderEventID), tt.wantID)
			}
			if tt.uuid != "" && tt.md.Get(HeaderEventID) == "" && msg.Metadata.Get(HeaderEventID) != "" {
				t.Fatal("EventMetadata changed the message's own metadata")
			}
		})
	}
}
