package session

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// maxInFlight bounds the commands one connection has queued or running on
// its executor. When it is full the reader waits for a slot. That is safe
// with the ping deadline: every command ahead of it ends within its hook's
// timeout (at most 30 s) or opTimeout, the wait ends at once when the
// connection closes (the executor's context), and the reader extends the
// read deadline when it resumes, so the time spent waiting on our own
// backend never counts as the peer's silence. While it waits, pushes and
// server pings keep flowing: the writer and the timers do not need it.
const maxInFlight = 32

// executor runs one connection's commands off the reader once a command
// needed a hook, so that the reader keeps reading frames, pongs and close
// frames while a backend answers. It exists only for connections that used
// a hook (Session.exec is nil otherwise: no goroutine, no allocation on the
// path without hooks), and its goroutine runs only while it has commands:
// it exits when the queue is empty and the reader starts it again.
//
// Ownership: while running is true, the executor goroutine owns the
// session's command state (claims, subs, meta, connected, the timers); the
// reader only queues. The hand-over in both directions happens under mu,
// which orders the reader's writes before the goroutine's start and the
// goroutine's last writes before the reader sees running false.
type executor struct {
	s *Session
	// ctx is every hook call's context: it ends when the connection closes
	// (Session.Close, teardown), so no backend call outlives it.
	ctx    context.Context
	cancel context.CancelFunc
	// meta is the connect hook's, sent in every later hook body; it lives
	// here, not in Session, so connections without hooks do not pay for it.
	// Owned by the goroutine running commands, as the session state is.
	meta json.RawMessage
	// slots holds one token per command queued or running.
	slots chan struct{}
	wg    sync.WaitGroup // the goroutine, while running

	mu      sync.Mutex
	queue   []protocol.Command
	running bool
	stopped bool // teardown: drop what is left
}

// busy reports whether the executor has commands: every later command of
// the connection must then go through it, so that replies keep their order.
func (e *executor) busy() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.running
}

// executor returns the session's executor, making it on first use. Only
// the reader calls it.
func (s *Session) executor() *executor {
	if e := s.exec.Load(); e != nil {
		return e
	}
	e := &executor{s: s, slots: make(chan struct{}, maxInFlight)}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	s.exec.Store(e)
	if closing, _ := s.out.state(); closing {
		e.cancel() // Close ran before the executor existed
	}
	return e
}

// enqueue hands cmd to the executor, waiting while maxInFlight commands are
// in flight. It drops cmd when the connection closes meanwhile.
func (e *executor) enqueue(cmd *protocol.Command) {
	select {
	case e.slots <- struct{}{}:
	default:
		select {
		case e.slots <- struct{}{}:
			_ = e.s.extendReadDeadline() // see maxInFlight
		case <-e.ctx.Done():
			return
		}
	}
	c := *cmd
	// The frame's buffer goes back to the pool after this line: the queued
	// command must not share it.
	c.Data = bytes.Clone(c.Data)
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		<-e.slots
		return
	}
	e.queue = append(e.queue, c)
	if !e.running {
		e.running = true
		e.wg.Add(1)
		go e.run()
	}
}

func (e *executor) run() {
	defer e.wg.Done()
	for {
		e.mu.Lock()
		if len(e.queue) == 0 || e.stopped {
			e.running = false
			clear(e.queue)
			e.queue = e.queue[:0]
			e.mu.Unlock()
			return
		}
		cmd := e.queue[0]
		e.queue[0] = protocol.Command{}
		e.queue = e.queue[1:]
		e.mu.Unlock()
		e.s.runCommand(&cmd)
		<-e.slots
	}
}

// stop ends the executor at teardown: the hook calls in flight are
// cancelled, the commands still queued dropped, and it returns once the
// goroutine is gone, so teardown owns the session state again.
func (e *executor) stop() {
	e.cancel()
	e.mu.Lock()
	e.stopped = true
	e.mu.Unlock()
	e.wg.Wait()
}

// hookContext is the context of a hook call made for the session: it ends
// when the connection closes.
func (s *Session) hookContext() context.Context {
	if e := s.exec.Load(); e != nil {
		return e.ctx
	}
	return context.Background() // not reached: hooks run on the executor
}
