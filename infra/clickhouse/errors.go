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
	// exception about the data itself. Retrying it is pointless; a consumer
	// should dead-letter the event. It never marks a failure caused by the
	// server's state (disk, rights, a missing table, the cluster): those are
	// retried until they clear, because dead-lettering would move a good
	// event out of its table. Test with errors.Is.
	ErrPermanent = errors.New("permanent insert failure")
	// ErrClosed is returned by Write when the writer was closed, or its
	// context ended, before the row was inserted. The row's fate is unknown
	// only if the insert was in flight; the event should be redelivered, not
	// dead-lettered.
	ErrClosed = errors.New("batch writer closed")
)

// dataCodes are the ClickHouse exception codes that blame the rows sent:
// a value the server cannot parse, convert or fit, or a constraint it
// breaks. Only these make a row permanent.
//
// The list is closed on purpose. Every other code — disk full (243),
// access denied (291, 497), authentication failed (516), unknown table or
// database (60, 81), no ZooKeeper (225), read-only (164, 242), too many
// parts (252), memory limit (241), timeouts, and codes this list has never
// heard of — is treated as the server's state and retried: a wrongly
// retried data error stalls one table loudly (the writer logs every retry)
// and no event is lost, while a wrongly failed server error sends good
// events to a dead-letter destination. That is the trade the transports
// make too (see producers/publish.permanent).
var dataCodes = map[int32]bool{
	6:   true, // CANNOT_PARSE_TEXT
	19:  true, // SIZE_OF_FIXED_STRING_DOESNT_MATCH
	25:  true, // CANNOT_PARSE_ESCAPE_SEQUENCE
	26:  true, // CANNOT_PARSE_QUOTED_STRING
	27:  true, // CANNOT_PARSE_INPUT_ASSERTION_FAILED
	38:  true, // CANNOT_PARSE_DATE
	41:  true, // CANNOT_PARSE_DATETIME
	53:  true, // TYPE_MISMATCH
	69:  true, // ARGUMENT_OUT_OF_BOUND
	70:  true, // CANNOT_CONVERT_TYPE
	72:  true, // CANNOT_PARSE_NUMBER
	117: true, // INCORRECT_DATA
	128: true, // TOO_LARGE_ARRAY_SIZE
	131: true, // TOO_LARGE_STRING_SIZE
	190: true, // SIZES_OF_ARRAYS_DOESNT_MATCH (Nested columns of unequal length)
	321: true, // VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE
	349: true, // CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN
	376: true, // CANNOT_PARSE_UUID
	377: true, // ILLEGAL_SYNTAX_FOR_DATA_TYPE
	395: true, // FUNCTION_THROW_IF_VALUE_IS_NON_ZERO (a throwIf in a materialized view)
	469: true, // VIOLATED_CONSTRAINT
}

// prepareError marks a failure before any row was sent (PrepareBatch): the
// server answered the INSERT statement itself, so the rows cannot be at
// fault, whatever the code says.
type prepareError struct{ err error }

func (e *prepareError) Error() string { return e.err.Error() }
func (e *prepareError) Unwrap() error { return e.err }

// isTransient says whether retrying err later may succeed. Only an error
// about the rows is permanent: a data exception while sending them (see
// dataCodes) or a client-side encoding error. Anything else — the server
// refusing the statement, the server's state, the client failing to reach
// or hear the server (refused, reset, EOF, timeouts, pool exhaustion) — is
// exactly the outage we wait out.
func isTransient(err error) bool {
	var pe *prepareError
	if errors.As(err, &pe) {
		return true
	}
	var ex *ch.Exception
	if errors.As(err, &ex) {
		// 252 is also "Too many partitions for single INSERT block": that one
		// is about the batch's contents (splitting it helps), unlike "too
		// many parts", which clears once merges catch up.
		if ex.Code == 252 {
			return !strings.Contains(ex.Message, "partitions for single INSERT")
		}
		return !dataCodes[ex.Code]
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
