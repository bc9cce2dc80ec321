package loadtest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// faultProxy is a TCP proxy in front of a gateway's client port that
// injects faults into the server-to-client direction only, so that the
// gateway itself runs unchanged (no fault switch in the production binary):
//   - delay: every chunk the server sends reaches the client this much
//     later (the throughput is kept; only the latency grows);
//   - blackholeEvery N: from the N-th accepted connection on, every N-th
//     one silently loses everything the server sends once it is
//     blackholeAfter old. The TCP connection stays up and the client's
//     bytes still reach the server, so neither side notices: only the
//     client's offset accounting can.
type faultProxy struct {
	t              testing.TB
	ln             net.Listener
	target         string
	delay          time.Duration
	blackholeEvery int64
	blackholeAfter time.Duration

	accepted   atomic.Int64
	blackholed atomic.Int64 // connections that lost bytes
	dropped    atomic.Int64 // bytes swallowed

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
	wg     sync.WaitGroup
}

type faults struct {
	delay          time.Duration
	blackholeEvery int64
	blackholeAfter time.Duration
}

// startFaultProxy listens on 127.0.0.1 (a port the kernel picks) and
// forwards to target until the test ends.
func startFaultProxy(t testing.TB, target string, f faults) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{t: t, ln: ln, target: target, delay: f.delay, blackholeEvery: f.blackholeEvery,
		blackholeAfter: f.blackholeAfter, conns: map[net.Conn]struct{}{}}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(p.close)
	return p
}

func (p *faultProxy) addr() string { return p.ln.Addr().String() }

// track registers a connection for close; false once the proxy is closed.
func (p *faultProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *faultProxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		if !p.track(c) {
			c.Close()
			return
		}
		p.wg.Add(1)
		go p.handle(c)
	}
}

// chunk is bytes read from the server and when.
type chunk struct {
	b  []byte
	at time.Time
}

func (p *faultProxy) handle(client net.Conn) {
	defer p.wg.Done()
	defer client.Close()
	n := p.accepted.Add(1)
	up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
	if err != nil {
		p.t.Logf("fault proxy: dial %s: %v", p.target, err)
		return
	}
	defer up.Close()
	if !p.track(up) {
		return
	}
	blackhole := p.blackholeEvery > 0 && n%p.blackholeEvery == 0
	start := time.Now()

	// client -> server, untouched.
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		_, _ = io.Copy(up, client)
		if tc, ok := up.(*net.TCPConn); ok {
			_ = tc.CloseWrite()
		}
	}()

	// server -> client: a reader stamps each chunk, the writer holds it
	// back by the delay (or the reader swallows it).
	chunks := make(chan chunk, 4096)
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		defer close(chunks)
		counted := false
		for {
			buf := make([]byte, 32<<10)
			k, err := up.Read(buf)
			if k > 0 {
				if blackhole && time.Since(start) >= p.blackholeAfter {
					if !counted {
						counted = true
						p.blackholed.Add(1)
					}
					p.dropped.Add(int64(k))
				} else {
					chunks <- chunk{buf[:k], time.Now()}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range chunks {
		if d := time.Until(c.at.Add(p.delay)); d > 0 {
			time.Sleep(d)
		}
		if _, err := client.Write(c.b); err != nil {
			break
		}
	}
	// The server closed: let the client see the close too. Draining the
	// channel (the reader is done or ends when up closes) keeps it from
	// blocking.
	up.Close()
	for range chunks {
	}
}

// close stops accepting, closes every connection and waits (bounded) for
// the goroutines.
func (p *faultProxy) close() {
	p.mu.Lock()
	p.closed = true
	for c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.ln.Close()
	done := make(chan struct{})
	go func() {
		p.wg.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("fault proxy: goroutines still running 10 s after close")
	}
}
