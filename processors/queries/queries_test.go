package queries

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestLibraryRendersAndIsPortable renders every query with defaults and
// checks the compatibility rule (18.16 and 25.x) on the result.
func TestLibraryRendersAndIsPortable(t *testing.T) {
	banned := regexp.MustCompile(`(?i)\b(toStartOfInterval|DateTime64|toDateTime64|JSONExtract\w*|OVER\s*\(|neighbor|LowCardinality)\b|\{[a-z_]+:[A-Za-z]`)
	all, err := All()
	if err != nil {
		t.Fatal(err)
	}
	if len(all) < 16 {
		t.Fatalf("%d queries", len(all))
	}
	now := time.Unix(1_800_000_000, 0)
	for _, q := range all {
		t.Run(q.Name, func(t *testing.T) {
			if q.Description == "" {
				t.Error("no description")
			}
			sql, err := q.Render(map[string]string{"tenant": "t'1"}, now)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(sql, "@") {
				t.Errorf("unrendered parameter in\n%s", sql)
			}
			if m := banned.FindString(sql); m != "" {
				t.Errorf("uses %q, not portable to 18.16", m)
			}
			if !strings.Contains(sql, `'t\'1'`) {
				t.Error("tenant not escaped")
			}
			for _, col := range []string{"entity_type", "entity_id", "window_start", "window_end", "score"} {
				if !strings.Contains(sql, col) {
					t.Errorf("missing column %s", col)
				}
			}
		})
	}
}

func TestRenderErrors(t *testing.T) {
	q, err := Get("brute_force_user")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		values map[string]string
		want   string
	}{
		{"tenant required", map[string]string{}, "tenant (String) is required"},
		{"unknown parameter", map[string]string{"tenant": "a", "nope": "1"}, `no parameter "nope"`},
		{"bad number", map[string]string{"tenant": "a", "min_failures": "-3"}, "min_failures"},
		{"bad time", map[string]string{"tenant": "a", "since": "yesterday"}, "not a time"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.Render(tt.values, time.Now())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
	sql, err := q.Render(map[string]string{"tenant": "a", "since": "2026-01-01 00:00:00", "until": "1767312000"}, time.Now())
	if err != nil || !strings.Contains(sql, "toDateTime(1767225600)") || !strings.Contains(sql, "toDateTime(1767312000)") {
		t.Fatalf("rendered times wrong (%v):\n%s", err, sql)
	}
}

// TestRenderNumbers checks that numeric parameters are refused when not
// finite and rendered so that a negative value cannot merge with a minus
// sign in the SQL into "--", which would comment out the rest of the line.
func TestRenderNumbers(t *testing.T) {
	q, err := Get("metric_drop")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		value   string
		want    string // substring of the rendered SQL
		wantErr string // substring of the error; "" for success
	}{
		{"negative", "-5", "z <= -(-5)", ""},
		{"positive", "5", "z <= -(5)", ""},
		{"fraction", "2.5", "abs(z) / (2.5)", ""},
		{"exponent", "-1e-3", "z <= -(-0.001)", ""},
		{"NaN", "NaN", "", "parameter min_z"},
		{"Inf", "Inf", "", "parameter min_z"},
		{"minus Inf", "-Inf", "", "parameter min_z"},
		{"infinity word", "+infinity", "", "parameter min_z"},
		{"overflow", "1e400", "", "parameter min_z"},
		{"not a number", "5; DROP TABLE x", "", "parameter min_z"},
		{"empty", "", "", "parameter min_z"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sql, err := q.Render(map[string]string{"tenant": "a", "min_z": tt.value}, time.Now())
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one naming %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(sql, tt.want) {
				t.Errorf("rendered SQL lacks %q:\n%s", tt.want, sql)
			}
			// No line may hold "--" outside the query's own text: the
			// library's SQL has no comments left after parsing.
			if strings.Contains(sql, "--") {
				t.Errorf("rendered SQL holds a comment marker:\n%s", sql)
			}
		})
	}
}

func TestRenderRefusesAnEmptyWindow(t *testing.T) {
	q, err := Get("metric_spike")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	for _, tt := range []struct {
		since, until string
		want         string
	}{
		{"1h", "2h", "until 2026-11-30T10:00:00Z is not after since 2026-11-30T11:00:00Z"},
		{"2026-11-30T10:00:00Z", "2026-11-30T10:00:00Z", "is not after since"},
		{"2h", "1h", ""},
	} {
		_, err := q.Render(map[string]string{"tenant": "acme", "since": tt.since, "until": tt.until}, now)
		if (tt.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.want)) {
			t.Errorf("since %s until %s: err = %v, want %q", tt.since, tt.until, err, tt.want)
		}
	}
}
