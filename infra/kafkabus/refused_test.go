package kafkabus

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/segmentio/kafka-go"

	"github.com/tributary-io/tributary/infra/bus"
)

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"over the writer's BatchBytes", fmt.Errorf("write: %w", kafka.MessageTooLargeError{}), true},
		{"broker message.max.bytes", fmt.Errorf("write: %w", kafka.MessageSizeTooLarge), true},
		{"inside WriteErrors", kafka.WriteErrors{nil, kafka.RecordListTooLarge}, true},
		{"leader election", kafka.LeaderNotAvailable, false},
		{"other WriteErrors", kafka.WriteErrors{kafka.NotEnoughReplicas}, false},
		{"network", errors.New("dial tcp: connection refused"), false},
	} {
		err := refused(tc.err)
		if got := errors.Is(err, bus.ErrRefused); got != tc.want {
			t.Errorf("%s: errors.Is(refused(%v), ErrRefused) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
		if !strings.Contains(err.Error(), tc.err.Error()) {
			t.Errorf("%s: refused lost the original error: %v", tc.name, err)
		}
	}
}

func TestRefusedKeepsTheClientError(t *testing.T) {
	var tooLarge kafka.MessageTooLargeError
	if err := refused(kafka.MessageTooLargeError{}); !errors.As(err, &tooLarge) {
		t.Fatalf("refused(%v) hides kafka.MessageTooLargeError", err)
	}
}
