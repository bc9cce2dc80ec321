package config

import (
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// ErrHelp is returned by Load when the arguments ask for --help or -h. The
// caller prints Usage to stdout and exits 0. It wraps flag.ErrHelp.
var ErrHelp = fmt.Errorf("config: help requested: %w", flag.ErrHelp)

// Config holds every setting of one gateway node. The zero value is not
// usable; start from Default or Load. Field comments name the flag; each flag
// also reads the environment variable EnvName(flag).
type Config struct {
	Listen      string // --listen: client port, GET /ws
	APIListen   string // --api-listen: backend API port
	AdminListen string // --admin-listen: metrics and health port

	NodeID string // --node-id: unique in the cluster; defaults to the host name
	Zone   string // --zone: availability zone, reported to clients and in metrics

	RedisURL string // --redis-url: empty means one node with the in-process broker
	// RedisMinReplicas makes every publish wait (WAIT) until that many
	// replicas hold it before it is acknowledged; 0: acknowledged on the master's write.
	RedisMinReplicas    int           // --redis-min-replicas
	RedisReplicaTimeout time.Duration // --redis-replica-timeout: how long a publish waits for those replicas

	// The inbox (CONTRACT §7, docs/streams.md); it needs --redis-url.
	InboxMaxLen     int           // --inbox-max-len: unconsumed messages per topic before send answers rate_limited
	InboxNoWorker   time.Duration // --inbox-no-worker: no worker heartbeat for this long: send answers unavailable
	InboxPartitions int           // --inbox-partitions: partitions of a new topic (fixed once the topic exists)

	// Lifecycle events (CONTRACT §7, docs/events.md); they need --redis-url.
	// Events is off by default: emitting them costs every connect, close and
	// subscribe a Redis script, every node a refresh of all its entries every
	// 5 s and a sweep every second, and Redis the events stream's memory, which
	// a deployment that consumes no events should not pay. Load turns it on
	// when --webhook-url or --join-leave-namespaces is given and --events is not.
	Events              bool          // --events: emit lifecycle events (emitter, refresh, sweep)
	VacatedDelay        time.Duration // --vacated-delay: an emptied channel waits this long before channel.vacated
	WebhookURL          string        // --webhook-url: POST the events here in signed batches; empty: no webhook
	WebhookSecret       string        // --webhook-secret: whsec_<base64> signing key (Standard Webhooks)
	WebhookRetryWindow  time.Duration // --webhook-retry-window: a batch is retried this long, then dead-lettered
	JoinLeaveNamespaces []string      // --join-leave-namespaces: namespaces whose subscribers get join/leave pushes

	JWTSecret    string        // --jwt-secret: HS256 key for client tokens
	JWTPublicKey string        // --jwt-public-key: path to a PEM public key (RS256 or ES256)
	JWTAudience  string        // --jwt-audience: required "aud" when non-empty
	JWTIssuer    string        // --jwt-issuer: required "iss" when non-empty
	JWTLeeway    time.Duration // --jwt-leeway: clock skew allowed on exp, nbf and iat (at most 1m)

	// HooksConfig is the path of the backend hooks' YAML file (CONTRACT §6);
	// empty: no hook is called. The gateway loads it with hooks.Load.
	HooksConfig string // --hooks-config

	APIKey         string   // --api-key: empty means the API refuses every call
	AllowedOrigins []string // --allowed-origins: empty means same host only
	Dev            bool     // --dev: anonymous clients with every permission

	HistorySize      int           // --history-size: publications kept per channel
	HistoryTTL       time.Duration // --history-ttl: history lifetime after the last publication
	ChannelMetaTTL   time.Duration // --channel-meta-ttl: a channel's offset and epoch outlive its last publication this long
	HistoryChannels  int           // --history-max-channels: in-process broker only; channels with history kept, oldest-idle evicted beyond
	PingInterval     time.Duration // --ping-interval: 2x without traffic closes a connection
	MaxConnections   int           // --max-connections: per node; beyond it HTTP 503
	MaxMessageBytes  int64         // --max-message-bytes: largest client frame; beyond it close 1009
	Compression      bool          // --compression: negotiate permessage-deflate
	MaxSubscriptions int           // --max-subscriptions: per connection

	ConnectRate    float64        // --connect-rate: upgrades per second per client IP; 0 no limit
	TrustedProxies []netip.Prefix // --trusted-proxies: peers whose X-Forwarded-For is believed
	CommandRate    float64        // --command-rate: commands per second per connection; 0 no limit

	DrainDelay  time.Duration // --drain-delay: /readyz failing before connections close
	DrainWindow time.Duration // --drain-window: connections close spread over this window

	SendQueue      int    // --send-queue: pending pushes+replies per connection before close 4008
	SendQueueBytes int64  // --send-queue-bytes: bytes pending per connection before close 4008
	MaxReplyBytes  int64  // --max-reply-bytes: byte budget of one history, recovery or presence reply
	LogLevel       string // --log-level: debug, info, warn or error
	Pprof          bool   // --pprof: serve /debug/pprof/ on the admin port
}

// Default returns the defaults of every setting. It is the only place they
// are declared: flag definitions, --help and the tests all read them from
// here. NodeID is empty; Load fills in the host name.
func Default() Config {
	return Config{
		Listen:              ":8080",
		APIListen:           ":8081",
		AdminListen:         ":9090",
		HistorySize:         1000,
		HistoryTTL:          10 * time.Minute,
		ChannelMetaTTL:      24 * time.Hour,
		HistoryChannels:     100000,
		JWTLeeway:           5 * time.Second,
		RedisReplicaTimeout: 500 * time.Millisecond,
		InboxMaxLen:         100000,
		InboxNoWorker:       30 * time.Second,
		InboxPartitions:     16,
		VacatedDelay:        3 * time.Second,
		WebhookRetryWindow:  time.Hour,
		PingInterval:        25 * time.Second,
		MaxConnections:      100000,
		MaxMessageBytes:     65536,
		MaxSubscriptions:    1000,
		CommandRate:         100,
		DrainDelay:          5 * time.Second,
		DrainWindow:         20 * time.Second,
		SendQueue:           1024,
		SendQueueBytes:      4 << 20,
		MaxReplyBytes:       1 << 20,
		LogLevel:            "info",
	}
}

// EnvName returns the environment variable that sets a flag:
// "redis-url" -> "WSG_REDIS_URL".
func EnvName(flagName string) string {
	return "WSG_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// Load builds a Config from defaults, then the environment (read through
// getenv), then args (without the program name), and validates it. A flag on
// the command line wins over its variable; an empty variable counts as unset.
// hostname is the default node ID. Every error is one line fit to print on
// stderr as is; ErrHelp means --help was asked for.
func Load(args []string, getenv func(string) string, hostname string) (Config, error) {
	c := Default()
	c.NodeID = hostname
	var failed error // set by a flag value that refuses what Parse gave it
	fs := newFlagSet(&c, &failed)
	if err := fs.Parse(args); err != nil {
		return Config{}, parseError(err, failed)
	}
	if fs.NArg() > 0 {
		return Config{}, fmt.Errorf("config: unexpected argument %q: wsgateway takes flags only (see --help)", fs.Arg(0))
	}
	if err := applyEnv(fs, getenv); err != nil {
		return Config{}, err
	}
	c.implyEvents(fs)
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// applyEnv sets every flag that the command line left alone from its
// environment variable, when that is non-empty.
func applyEnv(fs *flag.FlagSet, getenv func(string) string) error {
	onCommandLine := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { onCommandLine[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		value := getenv(EnvName(f.Name))
		if err != nil || onCommandLine[f.Name] || value == "" {
			return
		}
		if setErr := fs.Set(f.Name, value); setErr != nil {
			err = fmt.Errorf("config: invalid value %q for environment variable %s: %v%s",
				value, EnvName(f.Name), setErr, want(f.Value))
		}
	})
	return err
}

// parseError turns an error of flag.FlagSet.Parse into Load's wording, which
// spells flags the way --help shows them.
func parseError(err, failed error) error {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return ErrHelp
	case failed != nil:
		return failed
	}
	// The flag package offers no typed errors for these two; its messages have
	// been stable since Go 1, and the tests pin them.
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "flag provided but not defined: -"); ok {
		return fmt.Errorf("config: unknown flag --%s (see --help)", name)
	}
	if name, ok := strings.CutPrefix(msg, "flag needs an argument: -"); ok {
		return fmt.Errorf("config: flag --%s needs a value", name)
	}
	return fmt.Errorf("config: %s", msg)
}
