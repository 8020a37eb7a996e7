package localstack

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{name: "defaults are valid", mutate: func(*Config) {}},
		{name: "empty dir", mutate: func(c *Config) { c.Dir = "" }, wantErr: []string{"Dir is empty"}},
		{name: "bad port", mutate: func(c *Config) { c.KafkaPort = 70000 }, wantErr: []string{"KafkaPort 70000"}},
		{name: "port clash", mutate: func(c *Config) { c.ClickHouseHTTPPort = c.NATSPort }, wantErr: []string{"both use port 4222"}},
		{name: "sync policy", mutate: func(c *Config) { c.JetStreamSync = "sometimes" }, wantErr: []string{`JetStreamSync "sometimes"`}},
		{name: "every error at once", mutate: func(c *Config) { c.Dir = ""; c.KafkaPartitions = 0; c.ReadyTimeout = 0 },
			wantErr: []string{"Dir is empty", "KafkaPartitions 0", "ReadyTimeout"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := DefaultConfig()
			tt.mutate(&cfg)
			err := cfg.Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors %q", tt.wantErr)
			}
			for _, want := range tt.wantErr {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %q, want it to mention %q", err, want)
				}
			}
		})
	}
}
