package main

import (
	"bytes"
	"io"
	"sync"
)

// prefixWriter writes whole lines to w, each after prefix, so that the
// logs of several processes on one stderr stay readable. A partial line
// waits in buf for its end. mu is shared by every prefixWriter of one w.
type prefixWriter struct {
	prefix string
	mu     *sync.Mutex
	w      io.Writer
	buf    []byte
}

// Write never fails: a broken stderr must not stop a gateway's log reader.
func (p *prefixWriter) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.buf = append(p.buf, b...)
	for {
		i := bytes.IndexByte(p.buf, '\n')
		if i < 0 {
			break
		}
		line := make([]byte, 0, len(p.prefix)+i+1)
		line = append(append(line, p.prefix...), p.buf[:i+1]...)
		_, _ = p.w.Write(line)
		p.buf = p.buf[i+1:]
	}
	return len(b), nil
}
