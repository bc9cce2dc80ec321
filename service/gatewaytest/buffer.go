package gatewaytest

import (
	"bytes"
	"io"
	"sync"
)

// Buffer collects a process's output: one goroutine (the log reader, the
// exec package's copier) writes while the test reads. mu guards b, and
// orders the writes to tee.
type Buffer struct {
	mu  sync.Mutex
	b   bytes.Buffer
	tee io.Writer // Options.Logs; nil: none
}

// Write appends p, and copies it to the tee. A failing tee never fails the
// write: the node's own output must not block or break on it.
func (s *Buffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tee != nil {
		_, _ = s.tee.Write(p)
	}
	return s.b.Write(p)
}

// String returns everything written so far.
func (s *Buffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// Tail returns the last n bytes written (all of them when fewer), for
// failure messages that must stay readable.
func (s *Buffer) Tail(n int) string {
	out := s.String()
	if len(out) > n {
		out = "..." + out[len(out)-n:]
	}
	return out
}
