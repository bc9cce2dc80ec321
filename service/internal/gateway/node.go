package gateway

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/internal/config"
	"github.com/wsgateway/wsgateway/service/internal/events"
	"github.com/wsgateway/wsgateway/service/internal/hooks"
	"github.com/wsgateway/wsgateway/service/internal/hub"
	"github.com/wsgateway/wsgateway/service/internal/server"
	"github.com/wsgateway/wsgateway/service/internal/session"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// node is one gateway process's parts, built in dependency order.
type node struct {
	broker clusterBroker
	events *events.Emitter // nil without --events
	inbox  inbox
	server *server.Server
}

// clusterBroker is a broker with its background loops: *broker.Memory or
// *broker.Redis.
type clusterBroker interface {
	server.Broker
	Run(ctx context.Context) error
}

// build connects the parts: the broker feeds the hub, sessions use both,
// and the server serves sessions; neither broker nor hub imports the other.
// hooksCfg is the loaded --hooks-config, nil without one.
func build(cfg config.Config, hooksCfg *hooks.Config, version string, log *slog.Logger, tracer trace.Tracer) (*node, error) {
	verifier, err := newVerifier(cfg)
	if err != nil {
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	registerInfo(reg, cfg, version)
	bm := broker.NewMetrics(reg) // the redis_* series exist at zero on every node
	connects := session.NewConnects(reg)
	im := broker.NewInboxMetrics(reg) // from startup, with or without Redis

	// The hook metrics exist from startup, with or without hooks.
	hk, err := hooks.New(hooksCfg, hooks.Deps{Log: log, Registry: reg, Tracer: tracer, Node: cfg.NodeID, Zone: cfg.Zone})
	if err != nil {
		return nil, fmt.Errorf("--hooks-config: %w", err)
	}
	h := hub.New(reg, tracer)
	started := time.Now()
	var sm *session.Manager // set below; nodeInfo is called only once the node runs
	nodeInfo := func() protocol.NodeInfo {
		return protocol.NodeInfo{Node: cfg.NodeID, Zone: cfg.Zone, Connections: sm.Connected(),
			Subscriptions: h.Subscriptions(), UptimeSeconds: int64(time.Since(started) / time.Second)}
	}
	var b clusterBroker = broker.NewMemory(broker.MemoryOptions{
		HistorySize: cfg.HistorySize, HistoryTTL: cfg.HistoryTTL, Node: nodeInfo,
		MetaTTL: cfg.ChannelMetaTTL, MaxChannels: cfg.HistoryChannels, Metrics: bm}, h)
	if cfg.RedisURL != "" {
		if b, err = broker.NewRedis(broker.RedisOptions{URL: cfg.RedisURL, HistorySize: cfg.HistorySize,
			MinReplicas: cfg.RedisMinReplicas, ReplicaTimeout: cfg.RedisReplicaTimeout,
			HistoryTTL: cfg.HistoryTTL, MetaTTL: cfg.ChannelMetaTTL, Node: nodeInfo, Log: log, Metrics: bm}, h); err != nil {
			return nil, fmt.Errorf("--redis-url: %w", err)
		}
	}
	ib := newInbox(cfg, b, im, log, tracer, func() *session.Manager { return sm })
	em := newEvents(cfg, b, log, reg, func(ch, except string, line []byte) { sm.PushToSubscribers(ch, except, line) })
	var lifecycle session.Lifecycle // a nil *events.Emitter must stay a nil interface
	if em != nil {
		lifecycle = em
	}
	sm = session.NewManager(session.Config{
		Node: cfg.NodeID, Zone: cfg.Zone, PingInterval: cfg.PingInterval,
		MaxSubscriptions: cfg.MaxSubscriptions, CommandRate: cfg.CommandRate, SendQueue: cfg.SendQueue,
		Compression: cfg.Compression, Dev: cfg.Dev, Tracer: tracer,
		SendQueueBytes: int(cfg.SendQueueBytes), MaxReplyBytes: int(cfg.MaxReplyBytes), MaxMessageBytes: cfg.MaxMessageBytes,
		Connects: connects, Hooks: hk, Events: lifecycle, Inbox: ib,
	}, b, h, verifier, log, reg)
	srv := server.New(server.Config{
		Listen: cfg.Listen, APIListen: cfg.APIListen, AdminListen: cfg.AdminListen, LocalNode: nodeInfo,
		APIKey: cfg.APIKey, Dev: cfg.Dev, AllowedOrigins: cfg.AllowedOrigins, TrustedProxies: cfg.TrustedProxies,
		MaxConnections: cfg.MaxConnections, ConnectRate: cfg.ConnectRate, MaxMessageBytes: cfg.MaxMessageBytes,
		Compression: cfg.Compression, DrainDelay: cfg.DrainDelay, DrainWindow: cfg.DrainWindow, Pprof: cfg.Pprof,
		Tracer: tracer, MaxReplyBytes: int(cfg.MaxReplyBytes), Connects: connects, Inbox: ib,
	}, sm, b, reg, reg, log)
	return &node{broker: b, events: em, inbox: ib, server: srv}, nil
}

// runLoops runs the broker's and the events' background loops until ctx is
// done.
func (n *node) runLoops(ctx context.Context) {
	done := make(chan struct{})
	go func() { defer close(done); runEvents(ctx, n.events) }()
	inboxDone := make(chan struct{})
	go func() { defer close(inboxDone); _ = n.inbox.Run(ctx) }()
	_ = n.broker.Run(ctx)
	<-done
	<-inboxDone
}

// close releases the broker's connections (Redis); Memory holds none.
func (n *node) close() {
	if c, ok := n.broker.(io.Closer); ok {
		_ = c.Close()
	}
}

// newVerifier builds the token verifier: auth.DevVerifier in --dev without
// a key.
func newVerifier(cfg config.Config) (session.Verifier, error) {
	ac := auth.Config{Secret: []byte(cfg.JWTSecret), Audience: cfg.JWTAudience, Issuer: cfg.JWTIssuer,
		Leeway: cfg.JWTLeeway}
	if cfg.JWTPublicKey != "" {
		pem, err := os.ReadFile(cfg.JWTPublicKey)
		if err != nil {
			return nil, fmt.Errorf("--jwt-public-key: %w", err)
		}
		ac.PublicKeyPEM = pem
	}
	if cfg.JWTSecret == "" && cfg.JWTPublicKey == "" {
		return auth.DevVerifier{}, nil // config.Validate allows this only with --dev
	}
	v, err := auth.New(ac)
	if err != nil {
		return nil, fmt.Errorf("jwt key: %w", err)
	}
	return v, nil
}

// registerInfo exposes the node's identity once, as labels of a constant
// gauge, instead of on every series.
func registerInfo(reg prometheus.Registerer, cfg config.Config, version string) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "wsgateway_build_info", Help: "Build and node identity; always 1.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(),
			"node": cfg.NodeID, "zone": cfg.Zone},
	}, func() float64 { return 1 }))
}
