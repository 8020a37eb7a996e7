package contract

import (
	"bufio"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tributary-io/tributary/tests/testenv"
)

// restartArg turns the test binary into the restart client: Watermill's
// TestReconnect restarts the broker by running Features.RestartServiceCommand
// as a separate process, while the servers of a private stack are owned by
// this process. So the command is this same binary, which asks the test
// process over a unix socket to restart the broker and exits when that is
// done (status 0) or failed (status 1).
const restartArg = "tributary-restart-broker"

func TestMain(m *testing.M) {
	if len(os.Args) == 3 && os.Args[1] == restartArg {
		os.Exit(runRestartClient(os.Args[2]))
	}
	os.Exit(m.Run())
}

// runRestartClient sends one request and waits for the answer. The stop,
// start and wait for readiness can take a while on a loaded machine; the
// server side bounds it, the client only waits.
func runRestartClient(socket string) int {
	conn, err := net.DialTimeout("unix", socket, 10*time.Second)
	if err != nil {
		fmt.Fprintln(os.Stderr, "restart client:", err)
		return 1
	}
	defer conn.Close()
	if _, err := fmt.Fprintln(conn, "restart"); err != nil {
		fmt.Fprintln(os.Stderr, "restart client: send:", err)
		return 1
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		fmt.Fprintln(os.Stderr, "restart client: no answer:", err)
		return 1
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		fmt.Fprintln(os.Stderr, "restart client:", reply)
		return 1
	}
	return 0
}

// brokerRestarter restarts one server of a private stack on request of the
// restart client. Restarts are serialised: TestReconnect asks for its second
// restart from a new goroutine, possibly before the first one finished, and
// two stop/start sequences on one process must not interleave.
type brokerRestarter struct {
	servers testenv.ServerControl
	name    string
	socket  string
	logger  *slog.Logger

	mu   sync.Mutex // held for the whole of one restart
	done atomic.Int32
}

// newBrokerRestarter listens for restart requests until t's cleanup.
func newBrokerRestarter(t *testing.T, servers testenv.ServerControl, name string) *brokerRestarter {
	t.Helper()
	// Not t.TempDir: unix socket paths are limited to 108 bytes and test
	// names make temp paths long.
	dir, err := os.MkdirTemp("", "trb-restart-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	r := &brokerRestarter{servers: servers, name: name, socket: filepath.Join(dir, "s"), logger: testLogger().With("server", name)}
	ln, err := net.Listen("unix", r.socket)
	if err != nil {
		t.Fatal(err)
	}
	var serving sync.WaitGroup
	serving.Add(1)
	go func() {
		defer serving.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return // closed at cleanup
			}
			serving.Add(1)
			go func() {
				defer serving.Done()
				r.serve(conn)
			}()
		}
	}()
	t.Cleanup(func() {
		_ = ln.Close()
		serving.Wait()
	})
	return r
}

// Command is the RestartServiceCommand for Watermill's Features.
func (r *brokerRestarter) Command(t *testing.T) []string {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return []string{exe, restartArg, r.socket}
}

// Restarts is how many restarts succeeded.
func (r *brokerRestarter) Restarts() int { return int(r.done.Load()) }

func (r *brokerRestarter) serve(conn net.Conn) {
	defer conn.Close()
	if _, err := bufio.NewReader(conn).ReadString('\n'); err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	began := time.Now()
	// A real process restart: SIGTERM, wait for exit, start, wait until the
	// server answers (testenv → localstack).
	if err := r.servers.Restart(r.name); err != nil {
		r.logger.Error("broker restart failed", "err", err)
		fmt.Fprintf(conn, "error: %s\n", strings.ReplaceAll(err.Error(), "\n", " | "))
		return
	}
	n := r.done.Add(1)
	r.logger.Warn("broker restarted (expected: reconnect test)", "n", n, "took", time.Since(began).Round(time.Millisecond))
	fmt.Fprintln(conn, "ok")
}
