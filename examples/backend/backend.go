// Package backend is a reference backend for wsgateway's hooks (docs/protocol.md, CONTRACT
// §6): a chat that signs users in by cookie session, moderates what they publish, answers a
// few rpc methods, and runs each client action once however many times the mesh delivers it.
// It is small on purpose: the tests, the docs and the demo use it, and a real backend can start
// from it.
//
// Hook calls come as POST <prefix>/<hook>; the handler takes the hook from the last element of
// the path, so it serves under any prefix. Every answer is HTTP 200 with one of result, error or
// disconnect; a request the backend cannot read is HTTP 400, which the gateway counts as a
// failed hook.
package backend

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"sync"
	"time"
)

// maxBody bounds a hook body; the gateway's own bodies are far smaller.
const maxBody = 1 << 20

// Options configure a Backend. Every field may be left empty.
type Options struct {
	// Sessions maps the value of the "session" cookie to a user id.
	Sessions map[string]string
	// Banned words make a publish fail with error app_banned_word (case-insensitive).
	Banned []string
	// Masked words are replaced by asterisks in what is published (case-insensitive).
	Masked []string
	// KeyTTL is how long an Idempotency-Key's answer is kept (default 5 minutes, the gateway's
	// own de-duplication window).
	KeyTTL time.Duration
	Logger *slog.Logger
}

// Backend is the reference backend, an http.Handler. It is safe for concurrent use.
type Backend struct {
	banned, masked []string
	keyTTL         time.Duration
	log            *slog.Logger
	now            func() time.Time

	mu        sync.Mutex
	sessions  map[string]string // session id -> user
	done      map[string]*call  // hook + Idempotency-Key -> its one run
	processed map[string]int    // hook -> actions run (duplicates not counted)
	received  map[string]int    // hook -> calls received
	published map[string]int    // channel -> publishes accepted
}

// call is one client action's run, shared by every delivery of it.
type call struct {
	ready  chan struct{} // closed when answer is set
	answer answer
	at     time.Time
}

// New returns a Backend.
func New(opts Options) *Backend {
	b := &Backend{
		keyTTL:    opts.KeyTTL,
		log:       opts.Logger,
		now:       time.Now,
		sessions:  map[string]string{},
		done:      map[string]*call{},
		processed: map[string]int{},
		received:  map[string]int{},
		published: map[string]int{},
	}
	for _, w := range opts.Banned {
		b.banned = append(b.banned, strings.ToLower(w))
	}
	for _, w := range opts.Masked {
		b.masked = append(b.masked, strings.ToLower(w))
	}
	for id, user := range opts.Sessions {
		b.sessions[id] = user
	}
	if b.keyTTL <= 0 {
		b.keyTTL = 5 * time.Minute
	}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	return b
}

// AddSession signs user in under a session id, as a login page would.
func (b *Backend) AddSession(id, user string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.sessions[id] = user
}

// Processed is how many actions of a hook the backend has run: a repeated delivery of one
// action (the same Idempotency-Key) is not counted again.
func (b *Backend) Processed(hook string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.processed[hook]
}

// Received is how many calls of a hook reached the backend, repeats included.
func (b *Backend) Received(hook string) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.received[hook]
}

// ServeHTTP answers one hook call.
func (b *Backend) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "hooks are POSTed", http.StatusMethodNotAllowed)
		return
	}
	hook := path.Base(r.URL.Path)
	handle, ok := map[string]func(*request) answer{
		"connect": b.connect, "subscribe": b.subscribe, "publish": b.publish, "rpc": b.rpc,
	}[hook]
	if !ok {
		http.Error(w, "no hook "+hook, http.StatusNotFound)
		return
	}
	var req request
	if err := json.NewDecoder(io.LimitReader(r.Body, maxBody)).Decode(&req); err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	req.ctx = r.Context()
	a, err := b.once(r.Context(), hook, r.Header.Get("Idempotency-Key"), func() answer { return handle(&req) })
	if err != nil {
		return // the gateway gave up on the call; nobody reads an answer
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(a); err != nil {
		b.log.Debug("hook answer not written", "hook", hook, "err", err)
	}
}

// once runs an action once per hook and Idempotency-Key: a repeated delivery (a mesh retry, a
// replay) gets the first run's answer, waiting for it when that run is still going. A call
// without a key always runs.
func (b *Backend) once(ctx context.Context, hook, key string, run func() answer) (answer, error) {
	b.mu.Lock()
	b.received[hook]++
	b.forgetOld()
	id := hook + "\x00" + key
	c, seen := b.done[id]
	if key == "" || !seen {
		c = &call{ready: make(chan struct{}), at: b.now()}
		if key != "" {
			b.done[id] = c
		}
		b.processed[hook]++
	}
	b.mu.Unlock()
	if !seen || key == "" {
		c.answer = run()
		close(c.ready)
		return c.answer, nil
	}
	select {
	case <-c.ready:
		return c.answer, nil
	case <-ctx.Done():
		return answer{}, ctx.Err()
	}
}

// forgetOld drops the answers older than keyTTL. The caller holds mu.
func (b *Backend) forgetOld() {
	for id, c := range b.done {
		if b.now().Sub(c.at) > b.keyTTL {
			delete(b.done, id)
		}
	}
}

// user returns the user a session cookie signs in, if any.
func (b *Backend) user(cookieHeader string) (string, bool) {
	cookies, err := http.ParseCookie(cookieHeader)
	if err != nil {
		return "", false
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, c := range cookies {
		if c.Name == "session" {
			u, ok := b.sessions[c.Value]
			return u, ok
		}
	}
	return "", false
}

// endSession signs a session's user out.
func (b *Backend) endSession(id string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.sessions, id)
}

// errorf is an error answer.
func errorf(code, format string, args ...any) answer {
	return answer{Error: &hookError{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// ok is a result answer.
func ok(result any) answer { return answer{Result: result} }

// errBadData is the answer to data of the wrong shape.
var errBadData = errors.New("data must be a string or an object with a string field text")
