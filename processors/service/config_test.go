package service

import (
	"strings"
	"testing"
)

func TestConfigValidate(t *testing.T) {
	base := Config{NATSURL: "nats://127.0.0.1:4222", KafkaBrokers: []string{"127.0.0.1:9092"}}
	tests := []struct {
		name    string
		mutate  func(*Config)
		wantErr []string
	}{
		{name: "defaults are valid", mutate: func(*Config) {}},
		{name: "latest with the opt-in", mutate: func(c *Config) { c.StartFrom, c.AllowLatest = "latest", true }},
		{name: "latest without the opt-in", mutate: func(c *Config) { c.StartFrom = "latest" }, wantErr: []string{"StartFrom (-start-from) latest", "AllowLatest"}},
		{name: "unknown start", mutate: func(c *Config) { c.StartFrom = "yesterday" }, wantErr: []string{`StartFrom (-start-from) "yesterday"`}},
		{name: "negative chunk size", mutate: func(c *Config) { c.CheckpointChunkBytes = -1 }, wantErr: []string{"CheckpointChunkBytes -1"}},
		{name: "every problem at once", mutate: func(c *Config) { c.NATSURL, c.KafkaBrokers = "", nil },
			wantErr: []string{"NATSURL (-nats-url, TRIBUTARY_NATS_URL) is empty", "KafkaBrokers (-kafka-brokers, TRIBUTARY_KAFKA_BROKERS) is empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := base
			tt.mutate(&cfg)
			err := cfg.WithDefaults().Validate()
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Validate() = %v", err)
				}
				return
			}
			for _, want := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), want) {
					t.Errorf("Validate() = %v, want mention of %s", err, want)
				}
			}
		})
	}
	if got := base.WithDefaults().StartFrom; got != "earliest" {
		t.Fatalf("default StartFrom = %q, want earliest", got)
	}
	if base.WithDefaults().Now == nil {
		t.Fatal("default Now is nil: events would be judged against no clock")
	}
}
