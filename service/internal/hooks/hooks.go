package hooks

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Deps are what New needs from the node.
type Deps struct {
	Log        *slog.Logger
	Registry   prometheus.Registerer // the metrics of §6, registered from startup; nil: not exported
	Tracer     trace.Tracer          // nil: a noop tracer
	Node, Zone string
	Transport  http.RoundTripper // nil: a tuned http.Transport

	// breakerOpen overrides how long a breaker stays open (tests only).
	breakerOpen time.Duration
}

// Hooks holds the routes of a configuration. It is immutable after New and
// safe for concurrent use; its methods are safe on a nil *Hooks (no hooks).
type Hooks struct {
	connect   *ConnectRoute
	subscribe map[string]*Route // by namespace
	publish   map[string]*Route
	rpc       map[string]*Route
	m         *metrics
}

// ConnectRoute is the connect hook's route, with its mode and the
// upgrade-request headers to forward (canonical names, the allowlist).
type ConnectRoute struct {
	*Route
	Mode           ConnectMode
	ForwardHeaders []string
}

// New builds the callers: one HTTP client, one circuit breaker per endpoint.
// cfg nil means no hooks: every route method returns nil, and the metrics
// still exist at zero.
func New(cfg *Config, d Deps) (*Hooks, error) {
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	if d.Tracer == nil {
		d.Tracer = noop.NewTracerProvider().Tracer("")
	}
	if d.Registry == nil {
		d.Registry = prometheus.NewRegistry()
	}
	m := newMetrics(d.Registry)
	h := &Hooks{subscribe: map[string]*Route{}, publish: map[string]*Route{}, rpc: map[string]*Route{}, m: m}
	if cfg == nil {
		return h, nil
	}
	// A Config from Load is valid already; this catches one built by hand
	// (and fills its defaults) instead of failing on a nil timeout later.
	if err := cfg.validate(); err != nil {
		return nil, fmt.Errorf("hooks config: %w", err)
	}
	c := &caller{log: d.Log, tracer: d.Tracer, node: d.Node, zone: d.Zone, m: m,
		client: &http.Client{
			Transport: d.Transport,
			// A redirect is a non-200 answer, hence a failure: a hook is
			// never sent anywhere but where the file says.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}}
	if c.client.Transport == nil {
		c.client.Transport = newTransport()
	}
	eps := make(map[string]*endpoint, len(cfg.Endpoints))
	for _, name := range sortedKeys(cfg.Endpoints) {
		eps[name] = newEndpoint(name, cfg.Endpoints[name].URL, m, d.Log, d.breakerOpen)
	}
	route := func(hook string, hc *HookConfig) *Route {
		return &Route{c: c, hook: hook, ep: eps[hc.Endpoint], timeout: *hc.Timeout, allow: hc.OnError == Allow}
	}
	if cc := cfg.Connect; cc != nil {
		r := route(HookConnect, &cc.HookConfig)
		r.coalesce = newCoalescer()
		r.userAllowed = cc.Mode == ModeHook
		h.connect = &ConnectRoute{Route: r, Mode: cc.Mode, ForwardHeaders: cc.ForwardHeaders}
	}
	for ns, n := range cfg.Namespaces {
		if n.Subscribe != nil {
			h.subscribe[ns] = route(HookSubscribe, n.Subscribe)
		}
		if n.Publish != nil {
			h.publish[ns] = route(HookPublish, n.Publish)
		}
	}
	for ns, hc := range cfg.RPC {
		h.rpc[ns] = route(HookRPC, hc)
	}
	return h, nil
}

// newTransport is tuned for many concurrent calls to few hosts: keep enough
// idle connections that a burst does not dial anew, and bound the dial so a
// black-holed host fails within the call's timeout anyway.
func newTransport() *http.Transport {
	return &http.Transport{
		Proxy:                 nil, // the mesh is the proxy; an HTTP_PROXY variable must not reroute hooks
		DialContext:           (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:          1024,
		MaxIdleConnsPerHost:   256,
		IdleConnTimeout:       90 * time.Second,
		ResponseHeaderTimeout: MaxTimeout,
		ForceAttemptHTTP2:     true,
	}
}

// Connect returns the connect hook's route, nil when there is none.
func (h *Hooks) Connect() *ConnectRoute {
	if h == nil {
		return nil
	}
	return h.connect
}

// Subscribe returns the route of channel's namespace's subscribe hook, nil
// when there is none.
func (h *Hooks) Subscribe(channel string) *Route {
	if h == nil {
		return nil
	}
	return h.subscribe[protocol.Namespace(channel)]
}

// Publish returns the route of channel's namespace's publish hook, nil when
// there is none.
func (h *Hooks) Publish(channel string) *Route {
	if h == nil {
		return nil
	}
	return h.publish[protocol.Namespace(channel)]
}

// RPC returns the route of the rpc method's namespace ("billing:charge" ->
// billing), nil when there is none: the client gets not_found.
func (h *Hooks) RPC(method string) *Route {
	if h == nil {
		return nil
	}
	return h.rpc[protocol.Namespace(method)]
}
