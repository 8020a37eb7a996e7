// Package contract runs the suites every transport must pass against real
// servers from testenv: Watermill's universal Pub/Sub suite and the
// delivery-guarantee tests of infra/kafkabus and infra/natsbus.
package contract

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
)

// testLogger logs warnings and errors to stderr. Not t.Log: subscriber
// goroutines may still log while a test is finishing, which t.Log forbids.
func testLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// uniqueName is a broker-safe name unique to this run: prefix, a hash of the
// test name and a random suffix.
func uniqueName(t testing.TB, prefix string) string {
	h := sha1.Sum([]byte(t.Name()))
	return prefix + "-" + hex.EncodeToString(h[:4]) + "-" + strings.ToLower(watermill.NewShortUUID())
}

// groupFor derives one consumer group per test from its name: every
// subscriber a universal-suite test creates joins the same group, which is
// what its "continue after close" checks need.
func groupFor(t testing.TB, prefix string) string {
	h := sha1.Sum([]byte(t.Name()))
	return prefix + "-" + hex.EncodeToString(h[:8])
}

func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// receive reads n distinct messages (by UUID) from ch, acking each, or
// fails after timeout. It returns them in arrival order.
func receive(t testing.TB, ch <-chan *message.Message, n int, timeout time.Duration) []*message.Message {
	t.Helper()
	seen := map[string]bool{}
	var got []*message.Message
	deadline := time.After(timeout)
	for len(got) < n {
		select {
		case msg, ok := <-ch:
			if !ok {
				t.Fatalf("channel closed after %d of %d messages", len(got), n)
			}
			if !seen[msg.UUID] {
				seen[msg.UUID] = true
				got = append(got, msg)
			}
			msg.Ack()
		case <-deadline:
			t.Fatalf("timed out after %s with %d of %d messages", timeout, len(got), n)
		}
	}
	return got
}

func newMessages(n int, payload func(i int) string) []*message.Message {
	msgs := make([]*message.Message, n)
	for i := range msgs {
		msgs[i] = message.NewMessage(watermill.NewUUID(), []byte(payload(i)))
	}
	return msgs
}
