package main

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/tributary-io/tributary/processors/queries"
)

// Every float printed with %.4g ("1.512e+04"), every JSON value a string
// and times without a zone: now numbers are JSON numbers at full
// precision and times RFC 3339 in UTC.
func TestWriteTyped(t *testing.T) {
	at := time.Date(2026, 11, 30, 16, 7, 55, 0, time.FixedZone("CET", 3600))
	res := queries.Result{
		Columns: []string{"entity_type", "entity_id", "window_start", "distance_km", "n", "note", "nan"},
		Rows:    [][]any{{"user", "bob", at, 15120.3456789, uint64(4), nil, math.NaN()}},
	}
	var js bytes.Buffer
	if err := write(&js, "json", res); err != nil {
		t.Fatal(err)
	}
	var got []map[string]any
	if err := json.Unmarshal(js.Bytes(), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, js.String())
	}
	row := got[0]
	if row["distance_km"] != 15120.3456789 || row["n"] != float64(4) || row["window_start"] != "2026-11-30T15:07:55Z" ||
		row["note"] != nil || row["nan"] != nil || row["entity_id"] != "bob" {
		t.Errorf("JSON row %v", row)
	}
	// Columns keep the query's order.
	if strings.Index(js.String(), `"entity_type"`) > strings.Index(js.String(), `"distance_km"`) {
		t.Errorf("columns out of order: %s", js.String())
	}
	var table bytes.Buffer
	if err := write(&table, "table", res); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "15120.3456789") || !strings.Contains(table.String(), "2026-11-30T15:07:55Z") {
		t.Errorf("table:\n%s", table.String())
	}
}
