package observe

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Middleware counts each attempt of the handler it wraps by outcome and
// times it. Put it innermost (after a poison queue) so it sees the
// handler's own error; isPoison tells the errors that get dead-lettered.
func (m *Metrics) Middleware(handler string, isPoison func(error) bool) message.HandlerMiddleware {
	record := m.Recorder(handler, isPoison)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			start := time.Now()
			out, err := h(msg)
			record(time.Since(start), err)
			return out, err
		}
	}
}

// Recorder counts one handler's outcomes as Middleware does, for a handler
// that finishes a message outside a Watermill HandlerFunc (ingest's batch
// path acks when the row's insert returns): took is from the start of the
// handling to its outcome, err that outcome. Safe for concurrent use.
func (m *Metrics) Recorder(handler string, isPoison func(error) bool) func(took time.Duration, err error) {
	acked := m.Messages.WithLabelValues(handler, Acked)
	nacked := m.Messages.WithLabelValues(handler, Nacked)
	dead := m.Messages.WithLabelValues(handler, DeadLettered)
	lat := m.Handling.WithLabelValues(handler)
	return func(took time.Duration, err error) {
		lat.Observe(took.Seconds())
		switch {
		case err == nil:
			acked.Inc()
		case isPoison != nil && isPoison(err):
			dead.Inc()
		default:
			nacked.Inc()
		}
	}
}
