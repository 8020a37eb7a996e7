package observe

import (
	"time"

	"github.com/ThreeDotsLabs/watermill/message"
)

// Middleware counts each attempt of the handler it wraps by outcome and
// times it. Put it innermost (after a poison queue) so it sees the
// handler's own error; isPoison tells the errors that get dead-lettered.
func (m *Metrics) Middleware(handler string, isPoison func(error) bool) message.HandlerMiddleware {
	acked := m.Messages.WithLabelValues(handler, Acked)
	nacked := m.Messages.WithLabelValues(handler, Nacked)
	dead := m.Messages.WithLabelValues(handler, DeadLettered)
	lat := m.Handling.WithLabelValues(handler)
	return func(h message.HandlerFunc) message.HandlerFunc {
		return func(msg *message.Message) ([]*message.Message, error) {
			start := time.Now()
			out, err := h(msg)
			lat.Observe(time.Since(start).Seconds())
			switch {
			case err == nil:
				acked.Inc()
			case isPoison != nil && isPoison(err):
				dead.Inc()
			default:
				nacked.Inc()
			}
			return out, err
		}
	}
}
