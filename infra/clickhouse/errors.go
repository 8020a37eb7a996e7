package clickhouse

import (
	"errors"
	"strings"

	ch "github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/column"
	"github.com/ClickHouse/clickhouse-go/v2/lib/proto"
)

var (
	// ErrPermanent marks a row the server or driver will never accept as
	// sent: a value that does not convert to its column, or a ClickHouse
	// exception about the data or the schema. Retrying it is pointless; a
	// consumer should dead-letter the event. Test with errors.Is.
	ErrPermanent = errors.New("permanent insert failure")
	// ErrClosed is returned by Write when the writer was closed, or its
	// context ended, before the row was inserted. The row's fate is unknown
	// only if the insert was in flight; the event should be redelivered, not
	// dead-lettered.
	ErrClosed = errors.New("batch writer closed")
)

// transientCodes are ClickHouse exception codes that say "not now" rather
// than "never": overload, timeouts, network, read-only replicas, Keeper.
var transientCodes = map[int32]bool{
	3:   true, // UNEXPECTED_END_OF_FILE
	32:  true, // ATTEMPT_TO_READ_AFTER_EOF
	159: true, // TIMEOUT_EXCEEDED
	160: true, // TOO_SLOW
	164: true, // READONLY (server or replica switched to read-only for maintenance)
	202: true, // TOO_MANY_SIMULTANEOUS_QUERIES
	203: true, // NO_FREE_CONNECTION
	209: true, // SOCKET_TIMEOUT
	210: true, // NETWORK_ERROR
	236: true, // ABORTED
	241: true, // MEMORY_LIMIT_EXCEEDED
	242: true, // TABLE_IS_READ_ONLY
	252: true, // TOO_MANY_PARTS (merges lag behind inserts); see isTransient
	285: true, // TOO_FEW_LIVE_REPLICAS
	319: true, // UNKNOWN_STATUS_OF_INSERT
	394: true, // QUERY_WAS_CANCELLED
	425: true, // SYSTEM_ERROR
	999: true, // KEEPER_EXCEPTION
}

// isTransient says whether retrying err later may succeed. Server exceptions
// are judged by code; client-side encoding errors are permanent; anything
// else is the client failing to reach or hear the server (refused, reset,
// EOF, timeouts, pool exhaustion), which is exactly the outage we wait out.
func isTransient(err error) bool {
	var ex *ch.Exception
	if errors.As(err, &ex) {
		// 252 is also "Too many partitions for single INSERT block": that one
		// is about the batch's contents and never clears by waiting.
		if ex.Code == 252 && strings.Contains(ex.Message, "partitions for single INSERT") {
			return false
		}
		return transientCodes[ex.Code]
	}
	var (
		blockErr *proto.BlockError
		convErr  *column.ColumnConverterError
		typeErr  *column.UnsupportedColumnTypeError
		colErr   *column.Error
	)
	switch {
	case errors.As(err, &blockErr), errors.As(err, &convErr), errors.As(err, &typeErr), errors.As(err, &colErr),
		errors.Is(err, ch.ErrBatchInvalid), errors.Is(err, ch.ErrBatchAlreadySent):
		return false
	}
	return true
}
