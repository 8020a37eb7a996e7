package queries

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Run executes rendered SQL and returns column names and rows formatted as
// strings (times in UTC, "2006-01-02 15:04:05"), whatever the column types.
func Run(ctx context.Context, conn driver.Conn, sql string) ([]string, [][]string, error) {
	rows, err := conn.Query(ctx, sql)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	cols := rows.Columns()
	types := rows.ColumnTypes()
	var out [][]string
	for rows.Next() {
		dest := make([]any, len(cols))
		for i, ct := range types {
			dest[i] = reflect.New(ct.ScanType()).Interface()
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, nil, fmt.Errorf("scan: %w", err)
		}
		row := make([]string, len(cols))
		for i, d := range dest {
			row[i] = format(reflect.ValueOf(d).Elem().Interface())
		}
		out = append(out, row)
	}
	return cols, out, rows.Err()
}

func format(v any) string {
	switch x := v.(type) {
	case time.Time:
		return x.UTC().Format(time.DateTime)
	case *time.Time:
		if x == nil {
			return ""
		}
		return x.UTC().Format(time.DateTime)
	case float64:
		return fmt.Sprintf("%.4g", x)
	case *float64:
		if x == nil {
			return ""
		}
		return fmt.Sprintf("%.4g", *x)
	}
	return fmt.Sprint(v)
}
