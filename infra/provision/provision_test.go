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

// TestReplicasDefaults: single-node stays as it was; Replicas 3 gives
// streams R3 and topics RF 3 with min.insync.replicas 2.
func TestReplicasDefaults(t *testing.T) {
	single := Config{}.WithDefaults()
	if single.Replicas != 1 || single.Stream.Replicas != 1 || single.ReplicationFactor != 1 || single.MinInsyncReplicas != 0 {
		t.Errorf("defaults: replicas %d, stream %d, topic RF %d, min ISR %d; want 1, 1, 1, 0 (broker default)",
			single.Replicas, single.Stream.Replicas, single.ReplicationFactor, single.MinInsyncReplicas)
	}
	c := Config{Replicas: 3}.WithDefaults()
	if c.Stream.Replicas != 3 || c.ReplicationFactor != 3 || c.MinInsyncReplicas != 2 {
		t.Errorf("Replicas 3: stream %d, topic RF %d, min ISR %d; want 3, 3, 2", c.Stream.Replicas, c.ReplicationFactor, c.MinInsyncReplicas)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	bad := Config{Replicas: 7, ReplicationFactor: 2, MinInsyncReplicas: 3}.WithDefaults()
	err := bad.Validate()
	for _, w := range []string{"Replicas 7", "MinInsyncReplicas 3"} {
		if err == nil || !strings.Contains(err.Error(), w) {
			t.Errorf("Validate() = %v, want it to name %s", err, w)
		}
	}
}
