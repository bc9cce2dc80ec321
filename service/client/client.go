package client

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Defaults for Options fields left zero, and the client's fixed timings.
const (
	defaultBackoffBase = protocol.BackoffBase
	defaultBackoffMax  = protocol.BackoffCap
	defaultStableAfter = protocol.BackoffStableAfter
	// handshakeTimeout bounds the upgrade (default Dialer) and, separately,
	// the wait for the connect reply.
	handshakeTimeout = 10 * time.Second
	// writeWait bounds every write: a peer that reads nothing for this
	// long is treated as gone.
	writeWait = 10 * time.Second
	// closeWait is how long a closing side waits for the peer's close frame
	// before dropping the socket.
	closeWait = 2 * time.Second
)

// Options configures a Client. Only URL is required.
//
// The On* callbacks are optional. They are called from one goroutine, never
// concurrently, in the order the events happened. They may call the client's
// methods, except Close (cancel the Start context instead). A slow callback
// delays the events after it, which queue in memory meanwhile.
type Options struct {
	// URL is the gateway's WebSocket endpoint, e.g. ws://host:8080/ws.
	URL string
	// Token returns the JWT sent in connect. It is called before every
	// (re)connect, so a token the server refused or let expire (close 4001)
	// is replaced. It should return when ctx ends. Nil sends no token: for
	// --dev servers, or when Header carries Authorization.
	Token func(ctx context.Context) (string, error)
	// Header holds extra headers for the upgrade request, such as Origin.
	Header http.Header
	// Dialer dials the WebSocket; nil means a default with a 10 s handshake
	// timeout. The client uses a copy with its subprotocol set; set
	// NetDialContext to choose, for instance, the source address.
	Dialer *websocket.Dialer
	// BackoffBase and BackoffMax shape the reconnect delays: before retry n
	// (from 0) the client waits a uniformly random time in
	// [0, min(BackoffMax, BackoffBase·2ⁿ)). Defaults 250 ms and 10 s.
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// StableAfter is how long a connection must have lived for the retries
	// after it to start again from n = 0. Default 30 s.
	StableAfter time.Duration
	// Logger receives the client's logs; nil discards them.
	Logger *slog.Logger

	// OnPublication receives each publication of a subscribed channel once,
	// in offset order: a subscribe reply's recovered ones, then live ones.
	OnPublication func(Publication)
	// OnConnected is called when the server accepted connect, before the
	// remembered channels are resubscribed.
	OnConnected func(ConnectInfo)
	// OnDisconnected is called when a connection attempt ends.
	OnDisconnected func(DisconnectEvent)
	// OnSubscribed is called after every accepted subscribe, including the
	// resubscriptions after a reconnect, after the recovered publications.
	OnSubscribed func(SubscribedEvent)
	// OnRecoveryFailed is called after OnSubscribed when a subscribe asked
	// for recovery and the server could not give it (history lost or too
	// short): publications were missed and the application must resync the
	// channel from its own source of truth. Position then holds the
	// server's current position.
	OnRecoveryFailed func(channel string)
	// OnUnsubscribed is called when the server ends a subscription (an unsub
	// push) or refuses, for good, to restore it after a reconnect. The client
	// stops resubscribing the channel. An unsub for "insufficient_state" (a
	// gap the server could not fill) is not reported here: the client
	// subscribes again with recovery by itself.
	OnUnsubscribed func(channel, reason string)
	// OnReply receives the backend workers' replies to this client's Send
	// calls (those a SendAndWait did not take), in the order they came.
	OnReply func(Reply)
	// OnJoin and OnLeave receive the join and leave notices of subscribed
	// channels whose namespace has them (--join-leave-namespaces).
	OnJoin  func(JoinLeave)
	OnLeave func(JoinLeave)
}

// Client is a connection to a wsgateway cluster that survives disconnects.
// Its methods are safe for concurrent use.
type Client struct {
	// Goroutines: Start runs one connection loop (run: connectOnce, then
	// backoff) and one event goroutine (dispatch); each connection has one
	// reader (readLoop). mu guards the fields below it; the event goroutine
	// owns nothing but the callbacks, and updates positions under mu.
	opts   Options
	log    *slog.Logger
	dialer websocket.Dialer
	events *eventQueue
	done   chan struct{}
	// replies hands reply pushes to SendAndWait (inbox.go).
	replies replyWaiters

	mu      sync.Mutex
	started bool
	stopped bool               // Close was called or the loop ended
	cancel  context.CancelFunc // ends the connection loop
	conn    *conn              // the connection calls use; nil when down
	subs    map[string]*subState
}

// New returns a client for opts; it does nothing until Start.
func New(opts Options) *Client {
	if opts.BackoffBase <= 0 {
		opts.BackoffBase = defaultBackoffBase
	}
	if opts.BackoffMax <= 0 {
		opts.BackoffMax = defaultBackoffMax
	}
	if opts.StableAfter <= 0 {
		opts.StableAfter = defaultStableAfter
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	dialer := websocket.Dialer{Proxy: http.ProxyFromEnvironment, HandshakeTimeout: handshakeTimeout}
	if opts.Dialer != nil {
		dialer = *opts.Dialer
	}
	dialer.Subprotocols = []string{protocol.Subprotocol}
	return &Client{
		opts:   opts,
		log:    log,
		dialer: dialer,
		events: newEventQueue(),
		done:   make(chan struct{}),
		subs:   make(map[string]*subState),
	}
}

// Start connects in the background and keeps reconnecting until Close, the
// end of ctx, or a terminal close code from the server (1000, 1003, 1007,
// 1008, 1009, 4003, 4009, 4500–4999: protocol.PolicyFor says StayClosed).
// It returns at once; calls after the first do nothing, as does a Start
// after Close.
func (c *Client) Start(ctx context.Context) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started || c.stopped {
		return
	}
	c.started = true
	ctx, c.cancel = context.WithCancel(ctx)
	go c.run(ctx)
	go c.dispatch()
}

// Close sends a normal close (1000) on the current connection, waits briefly
// for the server's answer, stops reconnecting and returns once every
// goroutine has ended and every callback has returned. It must not be
// called from a callback. It always returns nil.
func (c *Client) Close() error {
	c.mu.Lock()
	wasStopped, started, cancel := c.stopped, c.started, c.cancel
	c.stopped = true
	c.mu.Unlock()
	if !started {
		if !wasStopped {
			close(c.done)
		}
		return nil
	}
	cancel()
	<-c.done
	return nil
}

// Done is closed when the client has stopped for good (Close, the end of
// the Start context, or a terminal close code) and its last callback has
// returned.
func (c *Client) Done() <-chan struct{} { return c.done }

// run is the connection loop: one attempt after another, with backoff in
// between, until an attempt ends in a way that forbids another.
func (c *Client) run(ctx context.Context) {
	defer c.events.close() // last: Done closes after the final event
	defer c.stop()
	b := backoff{base: c.opts.BackoffBase, max: c.opts.BackoffMax, stableAfter: c.opts.StableAfter, rand: rand.Int64N}
	for {
		a := c.connectOnce(ctx)
		ev := a.event(ctx.Err() != nil)
		c.logEnd(ev)
		c.events.push(event{kind: evDisconnected, disc: &ev})
		if !ev.Reconnect {
			return
		}
		delay := b.next(a.lived)
		c.log.Debug("reconnecting", "delay", delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			c.events.push(event{kind: evDisconnected, disc: &DisconnectEvent{Code: CloseNormal, Reason: reasonClosed}})
			return
		}
	}
}

// stop makes every later call fail with ErrClosed.
func (c *Client) stop() {
	c.mu.Lock()
	c.stopped = true
	c.conn = nil
	c.mu.Unlock()
}

func (c *Client) logEnd(ev DisconnectEvent) {
	switch {
	case ev.Reconnect:
		c.log.Info("disconnected", "code", ev.Code, "reason", ev.Reason, "err", ev.Err)
	case ev.Code != CloseNormal:
		c.log.Warn("disconnected for good", "code", ev.Code, "reason", ev.Reason, "err", ev.Err)
	}
}
