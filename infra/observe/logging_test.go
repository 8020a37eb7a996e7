package observe

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

func TestNewLogger(t *testing.T) {
	tests := []struct {
		cfg     LogConfig
		wantErr string
		json    bool
		debug   bool
	}{
		{LogConfig{}, "", false, false},
		{LogConfig{Level: "debug", Format: "json"}, "", true, true},
		{LogConfig{Level: "loud"}, `-log-level "loud"`, false, false},
		{LogConfig{Format: "xml"}, `-log-format "xml"`, false, false},
	}
	for _, tt := range tests {
		var b bytes.Buffer
		log, err := NewLogger(&b, tt.cfg)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("%+v: err = %v, want %q", tt.cfg, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		log.Debug("d")
		log.Info("i")
		lines := strings.Count(b.String(), "\n")
		if (lines == 2) != tt.debug || lines == 0 {
			t.Errorf("%+v: %d lines for a debug and an info record: %q", tt.cfg, lines, b.String())
		}
		if tt.json && !json.Valid(bytes.Split(b.Bytes(), []byte("\n"))[0]) {
			t.Errorf("%+v: not JSON: %q", tt.cfg, b.String())
		}
	}
}

func TestRelevel(t *testing.T) {
	var b bytes.Buffer
	base := slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelInfo}))
	log := Relevel(base, map[string]slog.Level{"Error occurred, retrying": slog.LevelWarn, "unsupported clickhouse version": slog.LevelDebug})
	log.Error("Error occurred, retrying")
	log.Warn("unsupported clickhouse version")
	log.Error("real failure")
	out := b.String()
	if !strings.Contains(out, `level=WARN msg="Error occurred, retrying"`) {
		t.Errorf("retry not demoted to WARN: %q", out)
	}
	if strings.Contains(out, "unsupported clickhouse version") {
		t.Errorf("version warning not demoted below INFO: %q", out)
	}
	if !strings.Contains(out, `level=ERROR msg="real failure"`) {
		t.Errorf("other records changed: %q", out)
	}
}
