package localstack

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestProcessState(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command("sleep", "30")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	pidFile := filepath.Join(dir, "pid")
	if err := os.WriteFile(pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		proc    process
		running bool
		why     string
	}{
		{"ours", process{pidFile: pidFile, marker: "sleep"}, true, ""},
		{"recycled pid: another command line", process{pidFile: pidFile, marker: "zoo.cfg"}, false, `lacks "zoo.cfg"`},
		{"no pid file", process{pidFile: filepath.Join(dir, "missing"), marker: "sleep"}, false, "no pid file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pid, running, why := tt.proc.state()
			if running != tt.running || !strings.Contains(why, tt.why) {
				t.Fatalf("state() = %d, %v, %q; want running %v, why containing %q", pid, running, why, tt.running, tt.why)
			}
			if why, gone := tt.proc.exited(); gone == tt.running || !strings.Contains(why, tt.why) {
				t.Fatalf("exited() = %q, %v; want %v", why, gone, !tt.running)
			}
		})
	}

	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	why, gone := process{pidFile: pidFile, marker: "sleep"}.exited()
	if !gone || !strings.Contains(why, "no such process") {
		t.Fatalf("after kill: exited() = %q, %v; want gone, no such process", why, gone)
	}
}

// A process's start time from /proc: what tells a live server whose
// command line cannot be read from a recycled pid.
func TestStartTime(t *testing.T) {
	stat, err := os.ReadFile("/proc/self/stat")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.LastIndexByte(string(stat), ')')
	start, ok := startTime(stat[i+2:])
	if !ok {
		t.Fatalf("startTime(%q) not read", stat[i+2:])
	}
	if now := time.Now(); start.After(now) || start.Before(now.Add(-time.Hour)) {
		t.Fatalf("this test process started at %s, now is %s", start, now)
	}
}
