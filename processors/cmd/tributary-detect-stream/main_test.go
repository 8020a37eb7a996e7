package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/tributary-io/tributary/processors/service"
)

// -h used to start the live detector (it read variables only) and, on the
// demo stack, published anomalies. Now help and bad usage never start it.
func TestUsage(t *testing.T) {
	getenv := func(k string) string {
		return map[string]string{"TRIBUTARY_NATS_URL": "nats://127.0.0.1:1", "TRIBUTARY_DETECT_GROUP": "g"}[k]
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
		code := run(context.Background(), tt.args, getenv, &errb, start)
		if code != tt.code || started != tt.started || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("%v: exit %d, started %v, stderr %q; want %d, %v, %q", tt.args, code, started, errb.String(), tt.code, tt.started, tt.want)
		}
		if started && (got.NATSURL != "nats://127.0.0.1:1" || got.Group != "g" || len(got.KafkaBrokers) != 1) {
			t.Errorf("settings from the environment: %+v", got)
		}
	}
}
