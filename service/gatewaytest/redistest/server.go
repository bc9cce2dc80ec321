package redistest

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Bounds on the waits around one process.
const (
	// startTimeout bounds the wait for a new process to answer PING,
	// including the reload of its AOF.
	startTimeout = 10 * time.Second
	// stopTimeout bounds the wait for a signalled process to exit.
	stopTimeout = 10 * time.Second
)

// Server is one redis-server (or redis-sentinel) process on 127.0.0.1. Its
// methods are for the goroutine of the test that started it; Client and URL
// may be called from any goroutine. The test's cleanup kills the process,
// by its PID only, and closes the clients that Client returned.
type Server struct {
	// Addr is "127.0.0.1:Port".
	Addr string
	// Port is the TCP port the server listens on; it stays the same across
	// Restart.
	Port int
	// Dir is the server's working directory, where its AOF and config files
	// live; it is removed after the test.
	Dir string

	t       testing.TB
	spec    spec
	busPort int // the cluster bus port, when spec.busPort

	mu      sync.Mutex // guards proc and clients
	proc    *process
	clients []*redis.Client
}

// Options configures a server that Start runs.
type Options struct {
	// AppendOnly turns on the AOF with fsync on every write, so the data
	// survives Kill and comes back with Restart.
	AppendOnly bool
	// Args are extra redis-server arguments, such as "--maxmemory", "10mb";
	// they come last, so they override the defaults.
	Args []string
}

// Start runs a redis-server on a free port with no RDB snapshots, protected
// mode off and a fresh directory, and returns once it answers PING. The test
// fails if redis-server is not on PATH or does not come up; under -short it
// skips.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	skipShort(t)
	bin := lookPath(t, "redis-server", redisServerHint)
	return newServer(t, spec{bin: bin, args: func(s *Server) []string {
		return append(serverArgs(s, opts.AppendOnly), opts.Args...)
	}})
}

// Run is Start for a program that is not a test (a load tool): it returns
// the error instead of failing a test, knows nothing of -short, and the
// caller ends the server with Close. Kill, Stop and Restart are for servers
// that Start started.
func Run(opts Options) (*Server, error) {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return nil, fmt.Errorf("redis-server not found: %s", redisServerHint)
	}
	dir, err := os.MkdirTemp("", "redistest-")
	if err != nil {
		return nil, err
	}
	s := &Server{Dir: dir, spec: spec{bin: bin, args: func(s *Server) []string {
		return append(serverArgs(s, opts.AppendOnly), opts.Args...)
	}}}
	if err := s.launch(true); err != nil {
		return nil, errors.Join(fmt.Errorf("start %s: %w", bin, err), os.RemoveAll(dir))
	}
	return s, nil
}

// Close ends a server that Run started: it closes the clients, kills the
// process by its PID and removes its directory.
func (s *Server) Close() error {
	return errors.Join(s.close(), os.RemoveAll(s.Dir))
}

// PID is the running process's id; 0 when there is none.
func (s *Server) PID() int {
	if p := s.current(); p != nil && !p.exited() {
		return p.cmd.Process.Pid
	}
	return 0
}

// URL returns "redis://127.0.0.1:Port".
func (s *Server) URL() string {
	return "redis://" + s.Addr
}

// Client returns a new go-redis client of this server for assertions. It
// reconnects after Restart; the test's cleanup closes it.
func (s *Server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr})
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clients = append(s.clients, c)
	return c
}

// Kill sends SIGKILL and waits for the process to exit: a crash, with no
// chance to save or flush anything. Killing a stopped server does nothing.
func (s *Server) Kill() {
	s.t.Helper()
	s.halt(syscall.SIGKILL)
}

// Stop sends SIGTERM, which shuts the server down cleanly (flushing the AOF
// without writing an RDB, as nothing is configured to save), and waits for
// it to exit; SIGKILL follows if it is slow. Stopping a stopped server does
// nothing.
func (s *Server) Stop() {
	s.t.Helper()
	s.halt(syscall.SIGTERM)
}

// Restart runs the server again on the same port with the same directory
// and arguments, and returns once it answers PING; with AppendOnly that is
// after its AOF is reloaded. The server must have been killed or stopped.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	if p := s.current(); p != nil && !p.exited() {
		t.Fatalf("restart %s: it is still running; Kill or Stop it first", s.Addr)
	}
	if err := s.launch(false); err != nil {
		t.Fatalf("restart %s: %v", s.Addr, err)
	}
}

// halt signals the running process and waits for it, falling back to
// SIGKILL when sig does not stop it in time.
func (s *Server) halt(sig syscall.Signal) {
	s.t.Helper()
	p := s.current()
	if p == nil || p.exited() {
		return
	}
	err := p.signal(sig, stopTimeout)
	if err != nil && sig != syscall.SIGKILL {
		err = p.signal(syscall.SIGKILL, stopTimeout)
	}
	if err != nil {
		s.t.Fatalf("stop %s: %v\n%s", s.Addr, err, p.tail())
	}
}

// cleanup closes the clients and kills the process; it runs before the
// test's temporary directories are removed.
func (s *Server) cleanup() {
	if err := s.close(); err != nil {
		s.t.Errorf("cleanup %s: %v", s.Addr, err)
	}
}

// close closes the clients and kills the process.
func (s *Server) close() error {
	s.mu.Lock()
	clients, p := s.clients, s.proc
	s.clients = nil
	s.mu.Unlock()
	for _, c := range clients {
		_ = c.Close()
	}
	if p == nil || p.exited() {
		return nil
	}
	return p.signal(syscall.SIGKILL, stopTimeout)
}

// current returns the latest process.
func (s *Server) current() *process {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.proc
}

// tail returns the tail of the latest process's output, labelled.
func (s *Server) tail() string {
	p := s.current()
	if p == nil {
		return ""
	}
	return fmt.Sprintf("--- output of %s (%s) ---\n%s\n", s.Addr, s.spec.bin, p.tail())
}
