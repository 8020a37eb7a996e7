package localstack

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// process is one detached server process tracked by a pid file, so a later
// `down` (another OS process) can find and stop it.
type process struct {
	name    string
	pidFile string
	logFile string
	// marker must appear in the process's command line; it guards against a
	// recycled pid belonging to something else.
	marker string
}

// pid returns the recorded pid if that process is alive and still ours.
func (p process) pid() (int, bool) {
	pid, ok, _ := p.state()
	return pid, ok
}

// state is pid and, when the process is not running, what was seen: a
// false "exited" once orphaned a live ZooKeeper in CI (its start was
// failed and its cleanup skipped), so the verdict says why.
func (p process) state() (int, bool, string) {
	raw, err := os.ReadFile(p.pidFile)
	if err != nil {
		return 0, false, fmt.Sprintf("no pid file (%v)", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil || pid <= 0 {
		return 0, false, fmt.Sprintf("pid file holds %q", raw)
	}
	var written time.Time
	if fi, err := os.Stat(p.pidFile); err == nil {
		written = fi.ModTime()
	}
	ok, why := aliveSince(pid, p.marker, written)
	return pid, ok, why
}

// exited reports a process that is not running, read twice 250ms apart:
// one reading of /proc is not enough to start a server again, or to give
// up on it.
func (p process) exited() (string, bool) {
	if _, ok, _ := p.state(); ok {
		return "", false
	}
	time.Sleep(250 * time.Millisecond)
	pid, ok, why := p.state()
	if ok {
		return "", false
	}
	return fmt.Sprintf("pid %d: %s", pid, why), true
}

// alive is true for a running, non-zombie process whose command line has marker.
func alive(pid int, marker string) bool {
	ok, _ := aliveSince(pid, marker, time.Time{})
	return ok
}

// aliveSince is alive, and says why not. A command line that cannot be
// read at all (empty) does not settle it when the process started no
// later than written, the time its pid was recorded: a recycled pid's
// process starts after that.
func aliveSince(pid int, marker string, written time.Time) (bool, string) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false, fmt.Sprintf("no such process (%v)", err)
	}
	// The state follows the parenthesised command name, which may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 || i+2 >= len(stat) {
		return false, fmt.Sprintf("unreadable stat %q", stat)
	}
	if stat[i+2] == 'Z' {
		return false, "zombie"
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err == nil && bytes.Contains(cmdline, []byte(marker)) {
		return true, ""
	}
	if len(cmdline) == 0 && !written.IsZero() {
		if start, ok := startTime(stat[i+2:]); ok && !start.After(written.Add(2*time.Second)) {
			return true, ""
		}
	}
	return false, fmt.Sprintf("command line (%d bytes, err %v) lacks %q", len(cmdline), err, marker)
}

// startTime reads a process's start from the fields of its stat after
// the command name (starttime is field 22, in clock ticks since boot;
// USER_HZ is 100 on Linux).
func startTime(fields []byte) (time.Time, bool) {
	f := strings.Fields(string(fields))
	if len(f) < 20 {
		return time.Time{}, false
	}
	ticks, err := strconv.ParseInt(f[19], 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return time.Time{}, false
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "btime "); ok {
			boot, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				return time.Time{}, false
			}
			return time.Unix(boot, 0).Add(time.Duration(ticks) * 10 * time.Millisecond), true
		}
	}
	return time.Time{}, false
}

// start launches cmd in its own session, so it outlives the caller and a
// signal to its process group reaches every child (a JVM forks none, but
// clickhouse's watchdog does).
func (p process) start(cmd *exec.Cmd) error {
	if err := os.MkdirAll(filepath.Dir(p.logFile), 0o755); err != nil {
		return fmt.Errorf("start %s: %w", p.name, err)
	}
	logf, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("start %s: open log: %w", p.name, err)
	}
	defer logf.Close()
	fmt.Fprintf(logf, "\n=== %s starting %s: %s\n", time.Now().UTC().Format(time.RFC3339), p.name, strings.Join(cmd.Args, " "))
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w (log: %s)", p.name, err, p.logFile)
	}
	if err := os.WriteFile(p.pidFile, []byte(strconv.Itoa(cmd.Process.Pid)), 0o644); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("start %s: write pid file: %w", p.name, err)
	}
	// Reap the child if it dies while we still run (a test that kills a
	// server); otherwise it would linger as a zombie that looks alive.
	go func() { _ = cmd.Wait() }()
	return nil
}

// stop sends SIGTERM to the process group and waits, then SIGKILLs.
func (p process) stop(timeout time.Duration) error {
	pid, ok := p.pid()
	if !ok {
		_ = os.Remove(p.pidFile)
		return nil
	}
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	if waitGone(pid, p.marker, timeout) {
		return os.Remove(p.pidFile)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	if !waitGone(pid, p.marker, 10*time.Second) {
		return fmt.Errorf("stop %s: pid %d survived SIGKILL", p.name, pid)
	}
	return os.Remove(p.pidFile)
}

// kill is the crash a fault test wants: no chance to flush or close.
func (p process) kill() error {
	pid, ok := p.pid()
	if !ok {
		return fmt.Errorf("kill %s: not running", p.name)
	}
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		return fmt.Errorf("kill %s (pid %d): %w", p.name, pid, err)
	}
	if !waitGone(pid, p.marker, 10*time.Second) {
		return fmt.Errorf("kill %s: pid %d still alive", p.name, pid)
	}
	return nil
}

// waitGone waits until pid has fully exited. A JVM's leader thread turns
// zombie while its other threads still hold the sockets, so a zombie only
// counts as gone once it is the last thread left.
func waitGone(pid int, marker string, timeout time.Duration) bool {
	gone := func() bool {
		if alive(pid, marker) {
			return false
		}
		tasks, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
		return err != nil || len(tasks) <= 1
	}
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if gone() {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return gone()
}

// tail returns the last n lines of a log, for error messages.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// portFreeWithin waits a little for a port: a server that just exited may
// still be closing its listener.
func portFreeWithin(port int, wait time.Duration) bool {
	deadline := time.Now().Add(wait)
	for !portFree(port) {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

// portFree reports whether nothing listens on 127.0.0.1:port.
func portFree(port int) bool {
	conn, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), 300*time.Millisecond)
	if err != nil {
		return true
	}
	conn.Close()
	return false
}

// waitReady polls probe until it succeeds, ctx ends, or timeout passes.
func waitReady(ctx context.Context, timeout time.Duration, probe func(context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	var last error
	for {
		pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
		last = probe(pctx)
		pcancel()
		if last == nil {
			return nil
		}
		if errors.Is(last, errExited) {
			return last
		}
		select {
		case <-ctx.Done():
			return errors.Join(fmt.Errorf("not ready after %s", timeout), last)
		case <-time.After(250 * time.Millisecond):
		}
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
