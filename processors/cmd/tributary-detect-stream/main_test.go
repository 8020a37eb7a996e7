package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/processors/service"
)

// -h used to start the live detector (it read variables only) and, on the
// demo stack, published anomalies. Now help and bad usage never start it.
func TestUsage(t *testing.T) {
	t.Setenv("TRIBUTARY_NATS_URL", "nats://127.0.0.1:1")
	t.Setenv("TRIBUTARY_GROUP", "g")
	settings := filepath.Join(t.TempDir(), "detect.yaml")
	if err := os.WriteFile(settings, []byte("kafka-brokers: [127.0.0.1:1, 127.0.0.1:2]\nlog-level: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	typo := filepath.Join(t.TempDir(), "typo.yaml")
	if err := os.WriteFile(typo, []byte("log-level: debug\nstart-form: earliest\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		args    []string
		code    int
		started bool
		want    string
	}{
		{[]string{"-h"}, 0, false, "TRIBUTARY_NATS_URL"},
		{[]string{"--help"}, 0, false, "Exit codes"},
		{[]string{"-nope"}, 2, false, "-nope"},
		{[]string{"extra"}, 2, false, `unexpected argument "extra"`},
		{[]string{"-log-format", "xml"}, 2, false, `-log-format "xml"`},
		{[]string{"-start-from", "yesterday"}, 2, false, `StartFrom (-start-from) "yesterday"`},
		{[]string{"validate", settings}, 0, false, ""},
		{[]string{"validate", typo}, 2, false, `line 2: start-form: no such setting; did you mean "start-from"?`},
		{[]string{"-config", settings}, 1, true, "boom"},
		{nil, 1, true, "boom"},
	}
	for _, tt := range tests {
		var errb bytes.Buffer
		var got service.Config
		started := false
		start := func(_ context.Context, cfg service.Config, _ *slog.Logger, _ chan<- struct{}) error {
			started, got = true, cfg
			return errors.New("boom")
		}
		var outb bytes.Buffer
		code := run(context.Background(), tt.args, &outb, &errb, start)
		if code != tt.code || started != tt.started || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, started %v, stderr %q; want %d, %v, %q", tt.args, code, started, errb.String(), tt.code, tt.started, tt.want)
		}
		wantBrokers := 1
		if slices.Contains(tt.args, "-config") {
			wantBrokers = 2 // from the file
		}
		if started && (got.NATSURL != "nats://127.0.0.1:1" || got.Group != "g" || len(got.KafkaBrokers) != wantBrokers) {
			t.Errorf("%v: settings from the environment and file: %+v", tt.args, got)
		}
		if len(tt.args) > 0 && tt.args[0] == "validate" && code == 0 && !strings.Contains(outb.String(), "settings are valid") {
			t.Errorf("validate printed %q", outb.String())
		}
	}
}
