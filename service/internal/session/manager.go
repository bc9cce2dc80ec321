package session

import (
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/config"
	"github.com/wsgateway/wsgateway/service/internal/hooks"
	"github.com/wsgateway/wsgateway/service/internal/hub"
)

// Config is what sessions need from the node's configuration.
type Config struct {
	Node, Zone       string
	PingInterval     time.Duration
	ConnectTimeout   time.Duration // first command deadline; 0: 10 s (docs/protocol.md#commands)
	MaxSubscriptions int
	CommandRate      float64 // commands per second per connection; 0: no limit
	SendQueue        int     // pushes waiting per connection before 4008
	// SendQueueBytes bounds each connection's backlog in bytes (queued plus
	// being written, and a joining subscription's held publications); one
	// more closes it with 4008.
	SendQueueBytes int
	// MaxReplyBytes is the byte budget of one history, recovery or presence
	// reply.
	MaxReplyBytes int
	// MaxMessageBytes bounds a client message after inflating, enforced
	// while reading: more closes with 1009.
	MaxMessageBytes int64
	Compression     bool // write compressed frames where negotiated
	Dev             bool // anonymous clients with every permission
	// Tracer records connect, subscribe and publish spans; nil: tracing off,
	// and no tracing work at all.
	Tracer trace.Tracer
	// Connects is wsgateway_connects_total (NewConnects), which the server
	// shares; nil: the Manager registers one of its own (tests).
	Connects *prometheus.CounterVec
	// Hooks calls the backend's hooks (--hooks-config); nil: none.
	Hooks *hooks.Hooks
	// Inbox queues send commands (CONTRACT §7); nil: send answers unavailable.
	Inbox Inbox
	// Events receives the lifecycle reports (--redis-url); nil: none.
	Events Lifecycle
}

// Verifier turns a token into claims; *auth.Verifier and auth.DevVerifier
// satisfy it.
type Verifier interface {
	Verify(token string) (*auth.Claims, error)
}

// Manager runs sessions: it holds what all connections of this node share.
type Manager struct {
	cfg      Config
	broker   Broker
	hub      *hub.Hub
	verifier Verifier // auth.DevVerifier in --dev without a key: everyone is anonymous
	log      *slog.Logger
	m        *metrics
	bufs     sync.Pool // frame read buffers, shared so idle connections hold none

	// The node's connection counts, kept here only. admitted runs from
	// Admit, before the upgrade, to Release, after Serve: --max-connections,
	// the wsgateway_connections gauge and the drain read it. connected counts
	// the sessions past connect (authenticated), which GET /api/v1/nodes
	// reports.
	admitted  atomic.Int64
	connected atomic.Int64

	mu   sync.Mutex
	live map[*Session]struct{} // every session being served, for draining
	// senders are the sessions that used send, for replies (inbox.go).
	senders senders
	// watching is set while the stall watch runs: from the first session
	// tracked until the watch finds none left.
	watching bool
}

// connectTimeout is how long a new connection has to send connect: 10 s
// (docs/protocol.md); not a flag.
const connectTimeout = 10 * time.Second

// NewManager returns a Manager; v must not be nil (auth.DevVerifier in --dev
// without a key). The node passes every size from its configuration; a zero
// one (tests) takes config.Default's, so that defaults are declared there
// only.
func NewManager(cfg Config, b Broker, h *hub.Hub, v Verifier, log *slog.Logger, reg prometheus.Registerer) *Manager {
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = connectTimeout
	}
	d := config.Default()
	if cfg.SendQueue <= 0 {
		cfg.SendQueue = d.SendQueue
	}
	if cfg.SendQueueBytes <= 0 {
		cfg.SendQueueBytes = int(d.SendQueueBytes)
	}
	if cfg.MaxReplyBytes <= 0 {
		cfg.MaxReplyBytes = int(d.MaxReplyBytes)
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = d.MaxMessageBytes
	}
	m := &Manager{cfg: cfg, broker: b, hub: h, verifier: v, log: log, m: newMetrics(reg),
		live: make(map[*Session]struct{})}
	m.m.Connects = cfg.Connects
	if m.m.Connects == nil {
		m.m.Connects = NewConnects(reg)
	}
	for _, r := range []string{ConnectOK, ConnectUnauthorized, ConnectUnavailable, ConnectTimeout} {
		m.m.Connects.WithLabelValues(r) // every result at zero from the start
	}
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wsgateway_connections", Help: "Open WebSocket connections."}, func() float64 { return float64(m.Count()) }))
	return m
}

// Admit reserves a place for one more connection before its upgrade, where
// a refusal can still be an HTTP status, and reports false when limit
// connections are held already. Every admitted connection is released with
// Release once Serve returns or the upgrade failed.
func (m *Manager) Admit(limit int) bool {
	if m.admitted.Add(1) > int64(limit) {
		m.admitted.Add(-1)
		return false
	}
	return true
}

// Release returns a place taken by Admit.
func (m *Manager) Release() { m.admitted.Add(-1) }

// Sessions returns a snapshot of every session being served, connected or
// not yet, so a drain can close them all.
func (m *Manager) Sessions() []*Session {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Session, 0, len(m.live))
	for s := range m.live {
		out = append(out, s)
	}
	return out
}

// Count returns the number of connections admitted and not released:
// served, or between Admit and the upgrade's end.
func (m *Manager) Count() int { return int(m.admitted.Load()) }

// Connected returns the number of sessions that have connected
// (authenticated) and not ended.
func (m *Manager) Connected() int { return int(m.connected.Load()) }

func (m *Manager) track(s *Session, on bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if on {
		m.live[s] = struct{}{}
		if !m.watching {
			m.watching = true
			go m.watchStalls()
		}
	} else {
		delete(m.live, s)
	}
}

// stallCheck is how often the stall watch looks. A batch still in flight
// after stallScans looks has been writing for writeWait at least, and
// writeWait+stallCheck at most.
const (
	stallCheck = time.Second
	stallScans = int(writeWait / stallCheck)
)

// watchStalls closes, every stallCheck, the sessions whose current write
// has waited writeWait for the peer, as slow consumers. One goroutine per
// node looks at every session once a second, where a timer armed per batch
// cost a tenth of the node's CPU at 100,000 deliveries/s (and even a clock
// stamp per batch, 6 %). It ends when no session is left; track starts it
// again.
func (m *Manager) watchStalls() {
	t := time.NewTicker(stallCheck)
	defer t.Stop()
	var stalled []*Session
	for range t.C {
		m.mu.Lock()
		if len(m.live) == 0 {
			m.watching = false
			m.mu.Unlock()
			return
		}
		for s := range m.live {
			if s.stalled() {
				stalled = append(stalled, s)
			}
		}
		m.mu.Unlock()
		for _, s := range stalled {
			s.evictSlow()
		}
		clear(stalled)
		stalled = stalled[:0]
	}
}

// newID returns a random connection id, unique across the cluster.
func newID() string {
	var b [10]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:])
}
