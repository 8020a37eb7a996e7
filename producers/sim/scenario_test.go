package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestScenarioFixtures(t *testing.T) {
	tests := []struct {
		file    string
		wantErr []string // every one must be named; none: loads
	}{
		{file: "testdata/minimal.yaml"},
		{file: "testdata/every_kind.yaml"},
		{file: "../scenarios/demo.yaml"},
		{file: "../scenarios/load.yaml"},
		{file: "../scenarios/eval.yaml"},
		{file: "testdata/unknown_field.yaml", wantErr: []string{"field rate not found"}},
		{file: "testdata/bad_values.yaml", wantErr: []string{"duration: must be positive", "rhythm: must be in [0, 1)",
			`tenants[0].name: "Bad Name"`, "tenants[0].rates.logins: needs users"}},
		{file: "testdata/bad_anomalies.yaml", wantErr: []string{`anomalies[0].kind: "tornado"`,
			"anomalies[1].at: window 25s+10s", "anomalies[2].factor: a spike", `anomalies[3].target: "acme-host-09"`,
			`anomalies[4].task_type: "nope"`, `anomalies[5].tenant: "initech"`, `anomalies[6].kind: "stuck_tasks" is now called "stuck_task"`}},
	}
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			data, err := os.ReadFile(tt.file)
			if err != nil {
				t.Fatal(err)
			}
			sc, err := Parse(data)
			if len(tt.wantErr) == 0 {
				if err != nil {
					t.Fatalf("Parse() = %v", err)
				}
				if _, err := New(sc, 1); err != nil {
					t.Fatalf("New() = %v", err)
				}
				return
			}
			for _, w := range tt.wantErr {
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Errorf("Parse() = %v, want it to name %q", err, w)
				}
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	sc, err := Parse([]byte("duration: 1m\ntenants: [{name: a, hosts: 1, task_types: [{type: x}]}]\nanomalies: [{kind: metric_spike, at: 1s}]"))
	if err != nil {
		t.Fatal(err)
	}
	tn, a := sc.Tenants[0], sc.Anomalies[0]
	if sc.Day != 24*time.Hour || tn.HeartbeatInterval != 5*time.Second || tn.TaskTypes[0].Queue != "default" ||
		len(tn.Services) != 2 || a.Tenant != "a" || a.Factor != 5 || a.Duration != 20*time.Second {
		t.Fatalf("defaults not applied: %+v", sc)
	}
}
