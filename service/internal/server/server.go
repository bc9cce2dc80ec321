package server

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/session"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// Broker is what the HTTP layer needs of the cluster: the session's needs
// plus the API's cluster-wide operations.
type Broker interface {
	session.Broker
	// Disconnect closes every connection of user on every node.
	Disconnect(ctx context.Context, user string) error
	// Nodes lists the live nodes of the cluster.
	Nodes(ctx context.Context) ([]protocol.NodeInfo, error)
}

// Config is the part of the node's configuration the HTTP layer uses.
type Config struct {
	Listen, APIListen, AdminListen string
	APIKey                         string
	Dev                            bool
	AllowedOrigins                 []string
	TrustedProxies                 []netip.Prefix
	MaxConnections                 int
	ConnectRate                    float64
	MaxMessageBytes                int64
	MaxReplyBytes                  int // byte budget of an API history or presence answer
	Compression                    bool
	DrainDelay, DrainWindow        time.Duration
	Pprof                          bool // /debug/pprof/ on the admin port
	// Tracer records API publish spans and lets sessions continue the
	// upgrade request's trace; nil: tracing off.
	Tracer trace.Tracer
	// LocalNode reports this node's own entry of GET /api/v1/nodes, which
	// is answered from it alone when the cluster's list cannot be read.
	// Nil: such a failure answers with the error.
	LocalNode func() protocol.NodeInfo
	// Connects is wsgateway_connects_total (session.NewConnects), in which
	// the server counts the upgrades it refuses. Nil (tests): they are
	// counted where nobody gathers them.
	Connects *prometheus.CounterVec
	// Inbox answers the reply and dead-letter routes; nil: unavailable.
	Inbox Inbox
}

// Server is one node's HTTP surface and lifecycle.
type Server struct {
	cfg      Config
	sessions *session.Manager
	broker   Broker
	gatherer prometheus.Gatherer
	log      *slog.Logger
	m        *metrics
	upgrader websocket.Upgrader
	connRate *ipLimiter // nil: no per-IP connect rate

	draining  atomic.Bool // /readyz fails from the first signal
	accepting atomic.Bool // upgrades are refused after the drain delay
	started   time.Time
}

// New builds the server. gatherer serves /metrics; reg receives its metrics.
func New(cfg Config, sm *session.Manager, b Broker, gatherer prometheus.Gatherer,
	reg prometheus.Registerer, log *slog.Logger) *Server {
	if cfg.Connects == nil {
		cfg.Connects = session.NewConnects(prometheus.NewRegistry())
	}
	s := &Server{cfg: cfg, sessions: sm, broker: b, gatherer: gatherer, log: log,
		m: newMetrics(reg, cfg.Connects), started: time.Now()}
	s.upgrader = websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		// A small read buffer and pooled write buffers keep an idle
		// connection's memory low; frames larger than the buffer are read
		// straight into the frame buffer.
		ReadBufferSize:    1024,
		WriteBufferSize:   8192,
		WriteBufferPool:   &sync.Pool{},
		Subprotocols:      []string{protocol.Subprotocol},
		EnableCompression: cfg.Compression,
		CheckOrigin:       func(*http.Request) bool { return true }, // checked before, with metrics
	}
	s.m.maxConns.Set(float64(cfg.MaxConnections))
	if cfg.ConnectRate > 0 {
		s.connRate = newIPLimiter(cfg.ConnectRate)
	}
	s.accepting.Store(true)
	return s
}

// Run listens on the three ports and serves until ctx is done, then drains:
// /readyz fails at once; after the drain delay upgrades are refused and the
// connections are closed with 1012 spread over the drain window. It returns
// nil after a clean drain. When abort is done during the drain, it returns
// ErrAborted at once.
func (s *Server) Run(ctx, abort context.Context) error {
	ls, err := listenAll(s.cfg.Listen, s.cfg.APIListen, s.cfg.AdminListen)
	if err != nil {
		return err
	}
	return s.Serve(ctx, abort, ls[0], ls[1], ls[2])
}

// ErrAborted reports a drain cut short by a second signal.
var ErrAborted = errors.New("drain aborted")

// Serve is Run on listeners the caller opened (tests use port 0).
func (s *Server) Serve(ctx, abort context.Context, client, api, admin net.Listener) error {
	servers := []*http.Server{
		s.httpServer(s.clientRoutes(), clientPort), s.httpServer(s.apiRoutes(), apiPort),
		s.httpServer(s.adminRoutes(), adminPort),
	}
	errc := make(chan error, len(servers))
	for i, l := range []net.Listener{client, api, admin} {
		go func() { errc <- servers[i].Serve(l) }()
	}
	if s.connRate != nil {
		go s.connRate.sweep(ctx)
	}
	s.log.Info("listening", "client", client.Addr().String(), "api", api.Addr().String(), "admin", admin.Addr().String())
	select {
	case err := <-errc:
		closeAll(servers)
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	err := s.drain(abort, servers[0])
	closeAll(servers)
	return err
}

func (s *Server) httpServer(h http.Handler, p portLimits) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: p.readHeader,
		ReadTimeout:       p.read,
		IdleTimeout:       p.idle,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
}

func listenAll(addrs ...string) ([]net.Listener, error) {
	var ls []net.Listener
	for _, a := range addrs {
		l, err := net.Listen("tcp", a)
		if err != nil {
			for _, o := range ls {
				o.Close()
			}
			return nil, fmt.Errorf("listen %s: %w", a, err)
		}
		ls = append(ls, l)
	}
	return ls, nil
}

func closeAll(servers []*http.Server) {
	for _, srv := range servers {
		_ = srv.Close()
	}
}
