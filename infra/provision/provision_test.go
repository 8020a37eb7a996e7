package provision

import (
	"strings"
	"testing"
	"time"
)

func TestConfigDefaultsAndValidate(t *testing.T) {
	d := Config{}.WithDefaults()
	if d.Stream.MaxAge != 7*24*time.Hour || d.Stream.MaxBytes != 1<<30 || d.TopicRetention != 7*24*time.Hour || d.TopicRetentionBytes != 1<<30 {
		t.Fatalf("retention defaults = stream %s/%d, topics %s/%d; want 7 days and 1 GiB each",
			d.Stream.MaxAge, d.Stream.MaxBytes, d.TopicRetention, d.TopicRetentionBytes)
	}
	tests := []struct {
		name    string
		mod     func(*Config)
		wantErr []string
	}{
		{"defaults", func(*Config) {}, nil},
		{"unlimited", func(c *Config) {
			c.Stream.MaxAge, c.Stream.MaxBytes, c.TopicRetention, c.TopicRetentionBytes = -1, -1, -1, -1
		}, nil},
		{"all bad at once", func(c *Config) {
			c.Stream.MaxAge, c.Stream.MaxBytes, c.TopicRetention, c.TopicRetentionBytes = -2, -2, time.Microsecond, -2
		}, []string{"Stream.MaxAge", "Stream.MaxBytes", "TopicRetention ", "TopicRetentionBytes"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Config{}.WithDefaults()
			tt.mod(&c)
			err := c.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to name %s", err, w)
				}
			}
		})
	}
}
