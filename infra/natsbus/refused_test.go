package natsbus

import (
	"errors"
	"fmt"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tributary-io/tributary/infra/bus"
)

func TestRefused(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nats.ErrMaxPayload, true},
		{fmt.Errorf("publish: %w", &jetstream.APIError{ErrorCode: jetstream.JSErrCodeStreamMessageExceedsMaximum, Code: 400}), true},
		{nats.ErrTimeout, false},
		{jetstream.ErrNoStreamResponse, false},
		{&jetstream.APIError{ErrorCode: jetstream.JSErrCodeStreamNotFound, Code: 404}, false},
	} {
		err := refused(tc.err)
		if got := errors.Is(err, bus.ErrRefused); got != tc.want {
			t.Errorf("errors.Is(refused(%v), ErrRefused) = %v, want %v", tc.err, got, tc.want)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("refused lost the original error: %v", err)
		}
	}
}
