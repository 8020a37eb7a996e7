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
		{&ch.Exception{Code: 53, Message: "Type mismatch"}, false},
		{&ch.Exception{Code: 72, Message: "Cannot parse number"}, false},
		{&ch.Exception{Code: 469, Message: "Constraint violated"}, false},
		// The server's state, never the event's fault (issue 11, item 2).
		{&ch.Exception{Code: 243, Message: "Cannot reserve 1.00 MiB, not enough space"}, true},
		{&ch.Exception{Code: 497, Message: "Not enough privileges"}, true},
		{&ch.Exception{Code: 291, Message: "Access denied to database tributary"}, true},
		{&ch.Exception{Code: 516, Message: "Authentication failed"}, true},
		{&ch.Exception{Code: 60, Message: "Table tributary.auth_events doesn't exist"}, true},
		{&ch.Exception{Code: 81, Message: "Database tributary doesn't exist"}, true},
		{&ch.Exception{Code: 225, Message: "Can't create replicated table without ZooKeeper"}, true},
		{&ch.Exception{Code: 164, Message: "Cannot execute query in readonly mode"}, true},
		{&ch.Exception{Code: 242, Message: "Table is in readonly mode"}, true},
		{&ch.Exception{Code: 241, Message: "Memory limit (total) exceeded"}, true},
		{&ch.Exception{Code: 16, Message: "No such column attrs in table"}, true},
		{&ch.Exception{Code: 9999, Message: "a code this build has never heard of"}, true},
		{&prepareError{&ch.Exception{Code: 53, Message: "Type mismatch in the statement"}}, true},
		{fmt.Errorf("wrapped: %w", ch.ErrBatchInvalid), false},
	} {
		if got := isTransient(fmt.Errorf("ctx: %w", tc.err)); got != tc.want {
			t.Errorf("isTransient(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
