package queries

import (
	"context"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Result is a query's columns and rows, each value as the driver scanned
// it (times in UTC, numbers as numbers, nil for NULL).
type Result struct {
	Columns []string
	Rows    [][]any
}

// Exec executes rendered SQL and returns its typed result.
func Exec(ctx context.Context, conn driver.Conn, sql string) (Result, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return Result{}, err
	}
	defer rows.Close()
	res := Result{Columns: rows.Columns()}
	types := rows.ColumnTypes()
	for rows.Next() {
		dest := make([]any, len(types))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return Result{}, fmt.Errorf("scan: %w", err)
		}
		row := make([]any, len(dest))
		for i, d := range dest {
			row[i] = plain(reflect.ValueOf(d).Elem().Interface())
		}
		res.Rows = append(res.Rows, row)
	}
	return res, rows.Err()
}

// plain turns pointers (Nullable columns) into their value or nil, and
// times into UTC.
func plain(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer {
		if rv.IsNil() {
			return nil
		}
		v = rv.Elem().Interface()
	}
	if t, ok := v.(time.Time); ok {
		return t.UTC()
	}
	return v
}

// Run executes rendered SQL and returns column names and rows as text
// (Text): the form the evaluation and the tests read.
func Run(ctx context.Context, conn driver.Conn, sql string) ([]string, [][]string, error) {
	res, err := Exec(ctx, conn, sql)
	if err != nil {
		return nil, nil, err
	}
	out := make([][]string, len(res.Rows))
	for i, r := range res.Rows {
		out[i] = make([]string, len(r))
		for j, v := range r {
			out[i][j] = Text(v)
		}
	}
	return res.Columns, out, nil
}

// Text formats one value at full precision: times as "2006-01-02 15:04:05"
// (UTC), floats as the shortest decimal that reads back the same, NULL as
// "".
func Text(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case time.Time:
		return x.UTC().Format(time.DateTime)
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return strconv.FormatFloat(x, 'g', -1, 64)
		}
		return strconv.FormatFloat(x, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(x), 'f', -1, 32)
	}
	return fmt.Sprint(v)
}
