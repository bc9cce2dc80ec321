package config

import (
	"flag"
	"fmt"
	"io"
	"net/netip"
	"time"
)

// spec ties one flag to the Config field it sets. ptr points into a Config;
// its current value is the flag's default.
type spec struct {
	name  string
	ptr   any
	usage string // a `word` in backquotes names the value in --help
}

// specs lists every flag, in the order --help shows them, bound to c.
func specs(c *Config) []spec {
	return []spec{
		{"listen", &c.Listen, "client `host:port`: GET /ws (WebSocket)"},
		{"api-listen", &c.APIListen, "backend API `host:port`: /api/v1/..."},
		{"admin-listen", &c.AdminListen, "operator `host:port`: /metrics, /healthz, /readyz"},
		{"node-id", &c.NodeID, "this node's `name`, unique in the cluster (default: the host name)"},
		{"zone", &c.Zone, "availability `zone`, reported to clients, in /api/v1/nodes and in metrics"},
		{"redis-url", &c.RedisURL, "Redis `URL`: redis://, rediss://, redis-sentinel://[:pass@]h1:26379,h2:26379/MASTER or redis-cluster://h1:7000,h2:7001; empty: single node, in-process broker"},
		{"redis-min-replicas", &c.RedisMinReplicas, "replicas that must hold a publication (Redis WAIT) before it is acknowledged; 0: the master's write is enough (see docs/operations.md)"},
		{"redis-replica-timeout", &c.RedisReplicaTimeout, "how long a publish waits for --redis-min-replicas before it answers unavailable"},
		{"inbox-max-len", &c.InboxMaxLen, "unconsumed messages per inbox topic (split evenly over its partitions) before send answers rate_limited; never trimmed"},
		{"inbox-no-worker", &c.InboxNoWorker, "send answers unavailable for a topic whose workers sent no heartbeat for this long"},
		{"inbox-partitions", &c.InboxPartitions, "partitions of a new inbox topic (per-user order, parallel workers); an existing topic keeps its own"},
		{"events", &c.Events, "emit lifecycle events (docs/events.md; needs --redis-url): every connect, close and subscribe runs a Redis script and every node refreshes and sweeps; implied by --webhook-url and --join-leave-namespaces"},
		{"vacated-delay", &c.VacatedDelay, "an emptied channel waits this long before channel.vacated; a subscribe within it cancels the event"},
		{"webhook-url", &c.WebhookURL, "`URL` the lifecycle events are POSTed to in signed batches (implies --events); empty: no webhook"},
		{"webhook-secret", &c.WebhookSecret, "Standard Webhooks signing `key`, whsec_<base64>"},
		{"webhook-retry-window", &c.WebhookRetryWindow, "how long a webhook batch is retried (exponential backoff) before it is dead-lettered"},
		{"join-leave-namespaces", &c.JoinLeaveNamespaces, "comma `list` of namespaces whose subscribers get join and leave pushes (implies --events)"},
		{"jwt-secret", &c.JWTSecret, "HS256 `key` for client tokens"},
		{"jwt-public-key", &c.JWTPublicKey, "`path` to a PEM public key (RS256 or ES256) for client tokens"},
		{"jwt-audience", &c.JWTAudience, "required `aud` claim of client tokens; empty: not checked"},
		{"jwt-issuer", &c.JWTIssuer, "required `iss` claim of client tokens; empty: not checked"},
		{"jwt-leeway", &c.JWTLeeway, "clock skew allowed when checking exp, nbf and iat of client tokens (at most 1m)"},
		{"hooks-config", &c.HooksConfig, "`path` to the backend hooks' YAML file (docs/hooks.md); empty: no hook is called"},
		{"api-key", &c.APIKey, "`key` backends present to the API port; empty: the API refuses every call"},
		{"allowed-origins", &c.AllowedOrigins, "comma `list` of allowed Origin values (* matches one host part); empty: same host only"},
		{"dev", &c.Dev, "development mode: anonymous clients with every permission, no API key needed; never in production"},
		{"history-size", &c.HistorySize, "publications kept per channel for recovery"},
		{"history-ttl", &c.HistoryTTL, "how long a channel's history lives after its last publication"},
		{"channel-meta-ttl", &c.ChannelMetaTTL, "how long a channel's offset and epoch outlive its last publication (at least --history-ttl)"},
		{"history-max-channels", &c.HistoryChannels, "in-process broker: channels with history kept in memory; beyond it the oldest-idle is evicted"},
		{"ping-interval", &c.PingInterval, "server ping period; a connection silent for twice this is closed"},
		{"max-connections", &c.MaxConnections, "connections per node; beyond it the upgrade gets HTTP 503"},
		{"max-message-bytes", &c.MaxMessageBytes, "largest client frame in bytes; larger closes with 1009"},
		{"compression", &c.Compression, "negotiate permessage-deflate (no context takeover) with clients that offer it"},
		{"max-subscriptions", &c.MaxSubscriptions, "subscriptions per connection; beyond it too_many_subscriptions"},
		{"connect-rate", &c.ConnectRate, "new connections per second per client IP (burst twice that); 0: no limit"},
		{"trusted-proxies", &c.TrustedProxies, "comma `list` of CIDRs (a bare IP is one host) whose X-Forwarded-For names the client IP"},
		{"command-rate", &c.CommandRate, "commands per second per connection (burst twice that); 0: no limit"},
		{"drain-delay", &c.DrainDelay, "after SIGTERM, time with /readyz failing before connections are closed"},
		{"drain-window", &c.DrainWindow, "connections are closed spread evenly over this window"},
		{"send-queue", &c.SendQueue, "pushes and replies waiting per connection before it is closed 4008 as a slow consumer"},
		{"send-queue-bytes", &c.SendQueueBytes, "bytes of pushes and replies waiting per connection before it is closed 4008 as a slow consumer"},
		{"max-reply-bytes", &c.MaxReplyBytes, "byte budget of one history, recovery or presence reply; larger answers are truncated (history, presence) or not recovered"},
		{"log-level", &c.LogLevel, "log `level`: debug, info, warn or error"},
		{"pprof", &c.Pprof, "serve Go profiles at /debug/pprof/ on the admin port (keep that port private)"},
	}
}

// newFlagSet defines every flag on a new set bound to c, with c's current
// values as defaults. A value refused during Parse is recorded in *failed,
// worded with the flag's name, since the flag package's own message does not
// spell it as --name.
func newFlagSet(c *Config, failed *error) *flag.FlagSet {
	fs := flag.NewFlagSet("wsgateway", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {} // Load's caller prints Usage on ErrHelp.
	for _, s := range specs(c) {
		define(fs, s)
		f := fs.Lookup(s.name)
		f.Value = checked{Value: f.Value, name: s.name, failed: failed}
	}
	return fs
}

// define adds one flag of the type s.ptr points to.
func define(fs *flag.FlagSet, s spec) {
	switch p := s.ptr.(type) {
	case *string:
		fs.StringVar(p, s.name, *p, s.usage)
	case *bool:
		fs.BoolVar(p, s.name, *p, s.usage)
	case *int:
		fs.IntVar(p, s.name, *p, s.usage)
	case *int64:
		fs.Int64Var(p, s.name, *p, s.usage)
	case *float64:
		fs.Float64Var(p, s.name, *p, s.usage)
	case *time.Duration:
		fs.DurationVar(p, s.name, *p, s.usage)
	case *[]string:
		fs.Var((*stringList)(p), s.name, s.usage)
	case *[]netip.Prefix:
		fs.Var((*prefixList)(p), s.name, s.usage)
	default:
		panic(fmt.Sprintf("config: flag --%s has unsupported type %T", s.name, s.ptr))
	}
}

// checked wraps a flag's value to record the first value it refuses.
type checked struct {
	flag.Value
	name   string
	failed *error
}

// Set sets the wrapped value and records a refusal.
func (v checked) Set(s string) error {
	err := v.Value.Set(s)
	if err != nil && *v.failed == nil {
		*v.failed = fmt.Errorf("config: invalid value %q for flag --%s: %v%s", s, v.name, err, want(v.Value))
	}
	return err
}

// IsBoolFlag keeps "--dev" (without "=true") working through the wrapper.
func (v checked) IsBoolFlag() bool {
	b, ok := v.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Get returns the wrapped value's Go value.
func (v checked) Get() any { return getValue(v.Value) }

// getValue returns a flag value's Go value, or nil if it does not say.
func getValue(v flag.Value) any {
	if g, ok := v.(flag.Getter); ok {
		return g.Get()
	}
	return nil
}

// want says what a flag of v's type accepts, to follow the flag package's
// terse "parse error".
func want(v flag.Value) string {
	switch getValue(v).(type) {
	case bool:
		return " (want true or false)"
	case int, int64:
		return " (want an integer)"
	case float64:
		return " (want a number)"
	case time.Duration:
		return " (want a duration such as 25s or 1m30s)"
	}
	return ""
}
