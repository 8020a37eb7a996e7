package clickhouse

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// fakeConn stands in for driver.Conn at the preparer seam. Its hooks run
// under its mutex; sends may overlap (the writer keeps several in flight).
type fakeConn struct {
	mu       sync.Mutex
	prepares int
	// prepareErr, when set, is consulted on every PrepareBatch.
	prepareErr func(n int) error
	// sendErr, when set, decides the fate of a Send given its rows.
	sendErr func(rows [][]any) error
	// sendGate, when set, blocks Send until it is closed.
	sendGate chan struct{}
	inserted [][]any
	batches  []int    // size of each successful Send
	tokens   []string // dedup token of each successful Send, "" for none
	sent     [][][]any
	sending  int // Sends in progress
	peak     int // most Sends in progress at once
}

func (f *fakeConn) PrepareBatch(ctx context.Context, query string, _ ...driver.PrepareBatchOption) (driver.Batch, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.prepares++
	if f.prepareErr != nil {
		if err := f.prepareErr(f.prepares); err != nil {
			return nil, err
		}
	}
	tok, _ := ctx.Value(tokenKey{}).(string)
	return &fakeBatch{conn: f, ctx: ctx, token: tok}, nil
}

func (f *fakeConn) rows() [][]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]any(nil), f.inserted...)
}

// fakeBatch mimics the driver: a value "bad" in column 0 is a conversion
// error that poisons the batch, as a real Append failure does.
type fakeBatch struct {
	driver.Batch // unimplemented methods panic, which a test would notice
	conn         *fakeConn
	ctx          context.Context
	rows         [][]any
	err          error
	sent         bool
	token        string
}

var errFakeConvert = errors.New("converting string to UUID is unsupported")

func (b *fakeBatch) Append(v ...any) error {
	if b.err != nil {
		return b.err
	}
	if s, ok := v[0].(string); ok && s == "bad" {
		b.err = fmt.Errorf("clickhouse: batch is invalid: %w", errFakeConvert)
		return b.err
	}
	b.rows = append(b.rows, v)
	return nil
}

func (b *fakeBatch) Abort() error { b.sent = true; return nil }
func (b *fakeBatch) Close() error { b.sent = true; return nil }

func (b *fakeBatch) Send() error {
	b.sent = true
	b.conn.mu.Lock()
	b.conn.sending++
	b.conn.peak = max(b.conn.peak, b.conn.sending)
	b.conn.mu.Unlock()
	defer func() {
		b.conn.mu.Lock()
		b.conn.sending--
		b.conn.mu.Unlock()
	}()
	if g := b.conn.sendGate; g != nil {
		select {
		case <-g:
		case <-b.ctx.Done():
			return b.ctx.Err()
		}
	}
	b.conn.mu.Lock()
	defer b.conn.mu.Unlock()
	if b.conn.sendErr != nil {
		if err := b.conn.sendErr(b.rows); err != nil {
			return err
		}
	}
	b.conn.inserted = append(b.conn.inserted, b.rows...)
	b.conn.batches = append(b.conn.batches, len(b.rows))
	b.conn.tokens = append(b.conn.tokens, b.token)
	b.conn.sent = append(b.conn.sent, b.rows)
	return nil
}

// refused is what dialing a stopped server looks like to the driver.
var refused = fmt.Errorf("dial tcp 127.0.0.1:9000: %w", syscall.ECONNREFUSED)
