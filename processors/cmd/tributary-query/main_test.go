package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// Help, bad usage and a failing server exit 0, 2 and 1, and -h connects
// nowhere (the address is unreachable).
func TestExitCodes(t *testing.T) {
	env := map[string]string{"TRIBUTARY_CLICKHOUSE_ADDR": "127.0.0.1:1"}
	tests := []struct {
		args []string
		env  map[string]string
		code int
		want string
	}{
		{[]string{"-h"}, env, 0, "Exit codes"},
		{[]string{"metric_spike", "-h"}, env, 0, "TRIBUTARY_CLICKHOUSE_DATABASE"},
		{[]string{"-nope"}, env, 2, "-nope"},
		{[]string{"a", "b"}, env, 2, "usage"},
		{[]string{"metric_spike", "--format", "xml"}, env, 2, "--format"},
		{[]string{"metric_spike"}, env, 2, "parameter tenant (String) is required"},
		{[]string{"no_such_query", "--tenant", "acme"}, env, 2, "no_such_query"},
		{[]string{"metric_drop", "--tenant", "acme", "--param", "min_z=NaN"}, env, 2, "min_z"},
		{[]string{"metric_spike", "--tenant", "acme"}, env, 1, "127.0.0.1:1"},
		{[]string{"metric_spike", "--tenant", "acme"}, map[string]string{"TRIBUTARY_CLICKHOUSE_ADDR": "127.0.0.1:1", "TRIBUTARY_CLICKHOUSE_DB": "x"}, 1, "TRIBUTARY_CLICKHOUSE_DB is deprecated"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			setenv(t, tt.env)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var out, errb bytes.Buffer
			code := realMain(ctx, tt.args, &out, &errb)
			if code != tt.code || !strings.Contains(errb.String(), tt.want) {
				t.Errorf("%v: exit %d, stderr %q; want %d and %q", tt.args, code, errb.String(), tt.code, tt.want)
			}
		})
	}
}

func TestDatabaseSetting(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TRIBUTARY_CLICKHOUSE_DATABASE": "analytics"}, "analytics"},
		{map[string]string{"TRIBUTARY_CLICKHOUSE_DB": "old"}, "old"},
		{map[string]string{"TRIBUTARY_CLICKHOUSE_DATABASE": "new", "TRIBUTARY_CLICKHOUSE_DB": "old"}, "new"},
	} {
		t.Run(tt.want, func(t *testing.T) {
			setenv(t, tt.env)
			cfg, err := parseArgs([]string{"metric_spike"}, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			if cfg.CH.Database != tt.want || !cfg.CH.ReadOnly {
				t.Errorf("env %v: database %q (read-only %v), want %q read-only", tt.env, cfg.CH.Database, cfg.CH.ReadOnly, tt.want)
			}
		})
	}
}

// setenv sets exactly these TRIBUTARY_* variables for the test: the ones
// the binary reads and the test does not set are cleared.
func setenv(t *testing.T, env map[string]string) {
	t.Helper()
	for _, k := range []string{"TRIBUTARY_CLICKHOUSE_ADDR", "TRIBUTARY_CLICKHOUSE_DATABASE", "TRIBUTARY_CLICKHOUSE_DB", "TRIBUTARY_CONFIG"} {
		t.Setenv(k, env[k])
	}
}
