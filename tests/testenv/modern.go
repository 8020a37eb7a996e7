package testenv

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// Modern is a current ClickHouse engine (chDB: ClickHouse 26.x in-process,
// driven through Python) next to the 18.16 server, so base DDL and queries
// are proven on both. One session per test, in its own folder.
type Modern struct {
	mu     sync.Mutex
	cmd    *exec.Cmd
	in     io.WriteCloser
	out    *bufio.Reader
	Python string
}

// ModernPython finds the interpreter with chdb installed:
// TRIBUTARY_CHDB_PYTHON, else the venv `make chdb` creates in .tributary.
func ModernPython() (string, error) {
	if p := os.Getenv("TRIBUTARY_CHDB_PYTHON"); p != "" {
		return p, nil
	}
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	p := filepath.Join(root, ".tributary", "chdb", "bin", "python")
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("no modern ClickHouse engine: %s is missing; run `make chdb` (a venv with `pip install chdb`) or set TRIBUTARY_CHDB_PYTHON to a python that has chdb", p)
	}
	return p, nil
}

// NewModern starts a chDB session for t, or fails t saying why.
func NewModern(t testing.TB) *Modern {
	t.Helper()
	py, err := ModernPython()
	if err != nil {
		t.Fatal(err)
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, "tests", "testenv", "chdb_session.py")
	cmd := exec.Command(py, script, t.TempDir())
	var stderr strings.Builder
	cmd.Stderr = &stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start chDB session (%s): %v", py, err)
	}
	m := &Modern{cmd: cmd, in: in, out: bufio.NewReaderSize(out, 1<<20), Python: py}
	t.Cleanup(func() {
		_ = in.Close()
		_ = cmd.Wait()
	})
	if _, err := m.Query("SELECT 1"); err != nil {
		t.Fatalf("chDB session does not answer: %v\n%s", err, stderr.String())
	}
	return m
}

// Exec runs one statement.
func (m *Modern) Exec(sql string) error {
	_, err := m.raw(sql)
	return err
}

// Query runs one statement and returns its rows as TabSeparated cells.
func (m *Modern) Query(sql string) ([][]string, error) {
	out, err := m.raw(sql)
	if err != nil {
		return nil, err
	}
	return ParseTSV(out), nil
}

// Version is the engine's version() string.
func (m *Modern) Version() (string, error) {
	rows, err := m.Query("SELECT version()")
	if err != nil {
		return "", err
	}
	if len(rows) != 1 || len(rows[0]) != 1 {
		return "", fmt.Errorf("version(): %v", rows)
	}
	return rows[0][0], nil
}

func (m *Modern) raw(sql string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	req, err := json.Marshal(map[string]string{"sql": sql})
	if err != nil {
		return "", err
	}
	if _, err := m.in.Write(append(req, '\n')); err != nil {
		return "", fmt.Errorf("chDB session: %w", err)
	}
	line, err := m.out.ReadBytes('\n')
	if err != nil {
		return "", fmt.Errorf("chDB session ended: %w", err)
	}
	var rep struct {
		Out   string  `json:"out"`
		Error *string `json:"error"`
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return "", fmt.Errorf("chDB reply %q: %w", line, err)
	}
	if rep.Error != nil {
		return "", errors.New(*rep.Error)
	}
	return rep.Out, nil
}

// ParseTSV splits ClickHouse TabSeparated output into unescaped cells.
func ParseTSV(s string) [][]string {
	unescape := strings.NewReplacer(`\t`, "\t", `\n`, "\n", `\\`, `\`, `\'`, `'`, `\0`, "\x00")
	var rows [][]string
	for _, line := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if line == "" {
			continue
		}
		cells := strings.Split(line, "\t")
		for i, c := range cells {
			cells[i] = unescape.Replace(c)
		}
		rows = append(rows, cells)
	}
	return rows
}
