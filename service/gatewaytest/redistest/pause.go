package redistest

import (
	"os"
	"syscall"
)

// Pause stops the server with SIGSTOP, by its PID: it keeps its sockets
// and its data but answers nothing, as a Redis stalled by the host would,
// until Resume. Commands sent meanwhile wait in its socket buffers and run
// when it resumes.
func (s *Server) Pause() {
	s.t.Helper()
	s.sendSignal(syscall.SIGSTOP)
}

// Resume continues a paused server with SIGCONT.
func (s *Server) Resume() {
	s.t.Helper()
	s.sendSignal(syscall.SIGCONT)
}

func (s *Server) sendSignal(sig os.Signal) {
	s.t.Helper()
	p := s.current()
	if p == nil || p.exited() {
		s.t.Fatalf("signal %v to %s: it is not running", sig, s.Addr)
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		s.t.Fatalf("signal %v to %s: %v", sig, s.Addr, err)
	}
}
