package schemas

import (
	"strings"
	"testing"
	"time"
)

func TestLimitsValidate(t *testing.T) {
	tests := []struct {
		name   string
		edit   func(*Limits)
		errors []string // substrings; empty means valid
	}{
		{"defaults", func(*Limits) {}, nil},
		{"zero value", func(l *Limits) { *l = Limits{} }, []string{"max_event_size", "max_string_len", "max_text_len", "max_map_entries", "max_list_items", "max_headers", "max_header_size", "max_past"}},
		{"string longer than text", func(l *Limits) { l.MaxStringLen = l.MaxTextLen + 1 }, []string{"max_string_len (16385) must not exceed max_text_len"}},
		{"text longer than event", func(l *Limits) { l.MaxTextLen = l.MaxEventSize + 1; l.MaxStringLen = 1 }, []string{"must not exceed max_event_size"}},
		{"negative future", func(l *Limits) { l.MaxFuture = -time.Second }, []string{"max_future must not be negative"}},
		{"zero future is strict, not off", func(l *Limits) { l.MaxFuture = 0 }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := DefaultLimits()
			tt.edit(&l)
			err := l.Validate()
			if len(tt.errors) == 0 {
				if err != nil {
					t.Fatalf("want valid, got %v", err)
				}
				return
			}
			if err == nil {
				t.Fatal("want an error")
			}
			for _, s := range tt.errors {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("error %q does not mention %q", err, s)
				}
			}
		})
	}
	if d := DefaultLimits(); d.MaxEventSize != 1<<20 || d.MaxPast != 24*time.Hour || d.MaxFuture != 5*time.Minute {
		t.Errorf("defaults changed: %+v", d)
	}
}
