package clickhouse

import (
	"context"
	"fmt"
	"testing"

	ch "github.com/ClickHouse/clickhouse-go/v2"
)

func TestIsTransient(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{refused, true},
		{context.DeadlineExceeded, true},
		{ch.ErrAcquireConnTimeout, true},
		{&ch.Exception{Code: 210, Message: "Connection reset"}, true},
		{&ch.Exception{Code: 252, Message: "Too many parts (300). Merges are processing significantly slower than inserts"}, true},
		{&ch.Exception{Code: 252, Message: "Too many partitions for single INSERT block (more than 100)"}, false},
		{&ch.Exception{Code: 60, Message: "Table doesn't exist"}, false},
		{&ch.Exception{Code: 53, Message: "Type mismatch"}, false},
		{fmt.Errorf("wrapped: %w", ch.ErrBatchInvalid), false},
	} {
		if got := isTransient(fmt.Errorf("ctx: %w", tc.err)); got != tc.want {
			t.Errorf("isTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
