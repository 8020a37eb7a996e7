package clickhouse

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"go.opentelemetry.io/otel/trace"
)

// BatchConfig describes the one table a BatchWriter fills.
type BatchConfig struct {
	Table   string   // required; unqualified names resolve in the conn's database
	Columns []string // required; Write takes values in this order

	MaxRows        int           // flush when this many rows wait; default 5000
	FlushInterval  time.Duration // flush when the oldest waiting row is this old; default 200ms
	MaxPendingRows int           // rows buffered or in flight before Write blocks; default 50_000
	MaxInserts     int           // inserts in flight at once, each of up to MaxRows; default 4
	// DedupTokens batches positioned rows (WithPosition) per log, in
	// windows of WindowRows consecutive positions, and sends each batch with
	// an insert_deduplication_token naming exactly its rows, asking for
	// dependent views to be deduplicated too: a replay after a crash
	// rebuilds the same full windows and the server drops them. Only
	// servers >= 22.8 (with migrations 012 and 014) take it; see
	// DedupTokensSupported. Without it rows of every log share batches.
	DedupTokens bool
	// WindowRows is the window; default MaxRows. Keep it at most half the
	// messages a log may have in flight, or windows fill only by age.
	WindowRows     int
	RetryMin       time.Duration // first backoff after a transient failure; default 100ms
	RetryMax       time.Duration // backoff cap; default 10s
	AttemptTimeout time.Duration // bounds one prepare+append+send; default 30s

	// Observe, if set, hears of every acknowledged insert and every
	// retried attempt, from the flusher goroutine: for exported metrics.
	// It must not block.
	Observe BatchObserver
	// Tracer, if set, makes a span of every insert attempt, linked to the
	// spans of the rows' Write contexts (the handlers of their events).
	Tracer trace.Tracer
}

// BatchObserver is told what a BatchWriter does; see BatchConfig.Observe.
type BatchObserver interface {
	Inserted(rows int, took time.Duration)
	Retried()
}

func (c BatchConfig) withDefaults() BatchConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	if c.MaxRows == 0 {
		c.MaxRows = 5000
	}
	if c.WindowRows == 0 {
		c.WindowRows = c.MaxRows
	}
	if c.MaxInserts == 0 {
		c.MaxInserts = 4
	}
	if c.MaxPendingRows == 0 {
		c.MaxPendingRows = max(50_000, c.MaxRows)
	}
	def(&c.FlushInterval, 200*time.Millisecond)
	def(&c.RetryMin, 100*time.Millisecond)
	def(&c.RetryMax, 10*time.Second)
	def(&c.AttemptTimeout, 30*time.Second)
	return c
}

// Validate reports every problem at once, each naming its field.
func (c BatchConfig) Validate() error {
	var errs []error
	if c.Table == "" {
		errs = append(errs, errors.New("Table: required"))
	}
	if len(c.Columns) == 0 {
		errs = append(errs, errors.New("Columns: at least one required"))
	}
	for _, s := range append([]string{c.Table}, c.Columns...) {
		// The INSERT is built from these names; refuse what could break it.
		if strings.ContainsAny(s, " \t\n;(),`'\"") {
			errs = append(errs, fmt.Errorf("Table/Columns: %q is not a plain identifier", s))
		}
	}
	if c.MaxRows <= 0 {
		errs = append(errs, fmt.Errorf("MaxRows: must be positive, got %d", c.MaxRows))
	}
	if c.WindowRows < 1 || c.WindowRows > c.MaxRows {
		errs = append(errs, fmt.Errorf("WindowRows: must be between 1 and MaxRows (%d), got %d", c.MaxRows, c.WindowRows))
	}
	if c.MaxInserts < 1 {
		errs = append(errs, fmt.Errorf("MaxInserts: must be positive, got %d", c.MaxInserts))
	}
	if c.MaxPendingRows < c.MaxRows {
		errs = append(errs, fmt.Errorf("MaxPendingRows: must be >= MaxRows (%d), got %d", c.MaxRows, c.MaxPendingRows))
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"FlushInterval", c.FlushInterval}, {"RetryMin", c.RetryMin}, {"RetryMax", c.RetryMax}, {"AttemptTimeout", c.AttemptTimeout}} {
		if d.v <= 0 {
			errs = append(errs, fmt.Errorf("%s: must be positive, got %s", d.name, d.v))
		}
	}
	if c.RetryMax < c.RetryMin {
		errs = append(errs, fmt.Errorf("RetryMax: must be >= RetryMin (%s), got %s", c.RetryMin, c.RetryMax))
	}
	return errors.Join(errs...)
}
