package redistest

import (
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// Install hints for the binaries this package runs.
const (
	redisServerHint   = "install it (apt-get install -y redis-server, or run `make deps`)"
	redisSentinelHint = "install it (apt-get install -y redis-sentinel, or run `make deps`)"
	redisCLIHint      = "install it (apt-get install -y redis-tools, which redis-server brings, or run `make deps`)"
)

// errAddrInUse marks a start that lost the race for its port.
var errAddrInUse = errors.New("address already in use")

// spec says how to run one kind of server. args is called at every launch,
// after the ports are chosen, so it can name them.
type spec struct {
	bin     string
	busPort bool // the server also needs a cluster bus port
	args    func(s *Server) []string
}

// skipShort skips the test under -short, which promises a loop with no
// external processes.
func skipShort(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: starts redis-server")
	}
}

// lookPath finds bin on PATH or fails the test with hint; it never skips.
func lookPath(t testing.TB, bin, hint string) string {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Fatalf("%s not found: %s", bin, hint)
	}
	return path
}

// newServer starts a server of spec on fresh ports in a fresh directory and
// registers its cleanup. The directory's own cleanup is registered first,
// so it runs after the process is dead.
func newServer(t testing.TB, sp spec) *Server {
	t.Helper()
	s := &Server{Dir: t.TempDir(), t: t, spec: sp}
	t.Cleanup(s.cleanup)
	if err := s.launch(true); err != nil {
		t.Fatalf("start %s: %v", sp.bin, err)
	}
	return s
}

// launch starts the process and waits for PING. A fresh launch picks new
// ports, and picks again once if another process took one meanwhile.
func (s *Server) launch(fresh bool) error {
	tries := 1
	if fresh {
		tries = 2
	}
	var err error
	for range tries {
		if fresh {
			if err = s.pickPorts(); err != nil {
				return err
			}
		}
		if err = s.startOnce(); !errors.Is(err, errAddrInUse) {
			return err
		}
	}
	return err
}

// pickPorts chooses the server's port, and its bus port if it needs one.
func (s *Server) pickPorts() error {
	ports, err := freePorts(2)
	if err != nil {
		return err
	}
	s.Port, s.busPort = ports[0], 0
	if s.spec.busPort {
		s.busPort = ports[1]
	}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.Port)
	return nil
}

// startOnce runs the process and waits until it answers PING; on failure it
// kills the process and returns its output's tail.
func (s *Server) startOnce() error {
	p, err := startProcess(s.spec.bin, s.spec.args(s), s.Dir)
	if err != nil {
		return err
	}
	err = poll(startTimeout, p.done, func() error { return ping(s.Addr) })
	if err == nil {
		s.mu.Lock()
		s.proc = p
		s.mu.Unlock()
		return nil
	}
	_ = p.signal(syscall.SIGKILL, stopTimeout)
	if strings.Contains(p.out.String(), "Address already in use") {
		err = fmt.Errorf("%w: %w", errAddrInUse, err)
	}
	return fmt.Errorf("%s on %s did not answer PING: %w\n--- output ---\n%s",
		s.spec.bin, s.Addr, err, p.tail())
}

// serverArgs are the arguments every redis-server here runs with: loopback
// only, no RDB snapshots, and everything kept in its own directory.
func serverArgs(s *Server, appendOnly bool) []string {
	args := []string{
		"--port", strconv.Itoa(s.Port),
		"--bind", "127.0.0.1",
		"--protected-mode", "no",
		"--save", "",
		"--dir", s.Dir,
		"--appendonly", "no",
	}
	if appendOnly {
		// fsync before replying, so what a client saw acknowledged is on
		// disk when Kill comes.
		args = append(args[:len(args)-1], "yes", "--appendfsync", "always")
	}
	return args
}
