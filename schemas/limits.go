package schemas

import (
	"errors"
	"fmt"
	"time"
)

// Limits bounds what a single event may contain. Producers and consumers of
// the same deployment should share one Limits value (loaded by infra/config);
// DefaultLimits is what NewEvent and Payload.Validate use.
type Limits struct {
	// MaxEventSize bounds the encoded event: body plus attribute values, in
	// bytes. Kafka's default message.max.bytes and NATS's max_payload are
	// both 1 MiB, so a larger event could not be published anyway.
	MaxEventSize int `json:"max_event_size"`
	// MaxStringLen bounds identifiers and short strings (user, host, queue…).
	MaxStringLen int `json:"max_string_len"`
	// MaxTextLen bounds free text: log bodies, error messages, user agents.
	MaxTextLen int `json:"max_text_len"`
	// MaxMapEntries bounds labels, attributes and evidence maps; unbounded
	// label sets are what blow up ClickHouse Map columns and metric cardinality.
	MaxMapEntries int `json:"max_map_entries"`
	// MaxListItems bounds lists such as related event ids and token scopes.
	MaxListItems int `json:"max_list_items"`
	// MaxHeaders bounds how many headers (message metadata entries) an
	// event may carry, and MaxHeaderSize the bytes of one (name plus
	// value). The envelope needs eleven short ones; without a bound a
	// record could carry thousands, each copied into a map per message.
	MaxHeaders    int `json:"max_headers"`
	MaxHeaderSize int `json:"max_header_size"`
	// MaxPast and MaxFuture define the accepted window for the event time
	// around the "now" passed to Validate. MaxFuture tolerates clock skew
	// between hosts; MaxPast rejects stale replays at ingestion.
	MaxPast   time.Duration `json:"max_past"`
	MaxFuture time.Duration `json:"max_future"`
}

// DefaultLimits returns the limits every deployment starts from.
func DefaultLimits() Limits {
	return Limits{
		MaxEventSize:  1 << 20,
		MaxStringLen:  256,
		MaxTextLen:    16 << 10,
		MaxMapEntries: 64,
		MaxListItems:  256,
		MaxHeaders:    64,
		MaxHeaderSize: 8 << 10,
		MaxPast:       24 * time.Hour,
		MaxFuture:     5 * time.Minute,
	}
}

// Validate reports every out-of-range limit at once.
func (l Limits) Validate() error {
	var errs []error
	positive := func(name string, v int) {
		if v <= 0 {
			errs = append(errs, fmt.Errorf("limits: %s must be positive, got %d", name, v))
		}
	}
	positive("max_event_size", l.MaxEventSize)
	positive("max_string_len", l.MaxStringLen)
	positive("max_text_len", l.MaxTextLen)
	positive("max_map_entries", l.MaxMapEntries)
	positive("max_list_items", l.MaxListItems)
	positive("max_headers", l.MaxHeaders)
	positive("max_header_size", l.MaxHeaderSize)
	if l.MaxTextLen > 0 && l.MaxStringLen > l.MaxTextLen {
		errs = append(errs, fmt.Errorf("limits: max_string_len (%d) must not exceed max_text_len (%d)", l.MaxStringLen, l.MaxTextLen))
	}
	if l.MaxTextLen > 0 && l.MaxEventSize > 0 && l.MaxTextLen > l.MaxEventSize {
		errs = append(errs, fmt.Errorf("limits: max_text_len (%d) must not exceed max_event_size (%d)", l.MaxTextLen, l.MaxEventSize))
	}
	if l.MaxPast <= 0 {
		errs = append(errs, fmt.Errorf("limits: max_past must be positive, got %s", l.MaxPast))
	}
	if l.MaxFuture < 0 {
		errs = append(errs, fmt.Errorf("limits: max_future must not be negative, got %s", l.MaxFuture))
	}
	return errors.Join(errs...)
}
