package kafkabus

import (
	"fmt"
	"testing"
	"time"
)

func TestTopicSpecConfigEntries(t *testing.T) {
	tests := []struct {
		name string
		spec TopicSpec
		want string
	}{
		{"broker defaults", TopicSpec{}, "[]"},
		{"a week and a GiB", TopicSpec{Retention: 7 * 24 * time.Hour, RetentionBytes: 1 << 30}, "[retention.ms=604800000 retention.bytes=1073741824]"},
		{"unlimited", TopicSpec{Retention: -1, RetentionBytes: -1}, "[retention.ms=-1 retention.bytes=-1]"},
		{"replicated", TopicSpec{ReplicationFactor: 3, MinInsyncReplicas: 2, Retention: -1}, "[retention.ms=-1 min.insync.replicas=2]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, e := range tt.spec.configEntries() {
				got = append(got, e.ConfigName+"="+e.ConfigValue)
			}
			if s := fmt.Sprint(got); s != tt.want {
				t.Fatalf("config entries %s, want %s", s, tt.want)
			}
		})
	}
}
