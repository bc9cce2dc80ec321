package config

import (
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ValidationError lists every problem Validate found, each naming the flag
// to fix. Its message is one line: the problems joined by "; ".
type ValidationError struct {
	Problems []string
}

// Error returns the problems on one line.
func (e *ValidationError) Error() string {
	return "config: " + strings.Join(e.Problems, "; ")
}

// redisSchemes are the --redis-url schemes the broker understands.
var redisSchemes = []string{"redis", "rediss", "redis-sentinel", "redis-cluster"}

// logLevels maps the accepted --log-level names to slog levels.
var logLevels = map[string]slog.Level{
	"debug": slog.LevelDebug,
	"info":  slog.LevelInfo,
	"warn":  slog.LevelWarn,
	"error": slog.LevelError,
}

// Validate reports every problem with c at once, as a *ValidationError, or
// nil when c is fit to start a node with.
func (c Config) Validate() error {
	var p []string
	p = c.checkAddresses(p)
	p = c.checkLimits(p)
	p = c.checkAuth(p)
	p = c.checkEvents(p)
	if c.NodeID == "" {
		p = append(p, "--node-id is empty and the host name is unknown: set --node-id")
	}
	if c.RedisURL != "" {
		if scheme, rest, ok := strings.Cut(c.RedisURL, "://"); !ok || !slices.Contains(redisSchemes, scheme) || rest == "" {
			p = append(p, fmt.Sprintf("--redis-url must be SCHEME://HOSTS with SCHEME one of %s, got %q",
				strings.Join(redisSchemes, ", "), redactURL(c.RedisURL)))
		}
	}
	if _, ok := logLevels[strings.ToLower(c.LogLevel)]; !ok {
		p = append(p, fmt.Sprintf("--log-level must be debug, info, warn or error, got %q", c.LogLevel))
	}
	if len(p) > 0 {
		return &ValidationError{Problems: p}
	}
	return nil
}

// checkAddresses checks the three listen addresses: host:port each, and no
// two on the same fixed port.
func (c Config) checkAddresses(p []string) []string {
	seen := map[string]string{}
	for _, a := range []struct{ flag, addr string }{
		{"listen", c.Listen}, {"api-listen", c.APIListen}, {"admin-listen", c.AdminListen},
	} {
		_, port, err := net.SplitHostPort(a.addr)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil {
			p = append(p, fmt.Sprintf("--%s must be host:port with a numeric port such as :8080, got %q", a.flag, a.addr))
			continue
		}
		if other, ok := seen[a.addr]; ok && port != "0" {
			p = append(p, fmt.Sprintf("--%s and --%s are both %q", other, a.flag, a.addr))
		}
		seen[a.addr] = a.flag
	}
	return p
}

// checkLimits checks sizes, rates and durations.
func (c Config) checkLimits(p []string) []string {
	for _, n := range []struct {
		flag     string
		got, min int64
	}{
		{"history-size", int64(c.HistorySize), 1},
		{"max-connections", int64(c.MaxConnections), 1},
		{"max-message-bytes", c.MaxMessageBytes, 256},
		{"max-subscriptions", int64(c.MaxSubscriptions), 1},
		{"send-queue", int64(c.SendQueue), 16},
		{"send-queue-bytes", c.SendQueueBytes, 64 << 10},
		{"max-reply-bytes", c.MaxReplyBytes, 4 << 10},
		{"history-max-channels", int64(c.HistoryChannels), 1},
		{"redis-min-replicas", int64(c.RedisMinReplicas), 0},
		{"inbox-max-len", int64(c.InboxMaxLen), 1},
		{"inbox-partitions", int64(c.InboxPartitions), 1},
	} {
		if n.got < n.min {
			p = append(p, fmt.Sprintf("--%s must be at least %d, got %d", n.flag, n.min, n.got))
		}
	}
	for _, r := range []struct {
		flag string
		got  float64
	}{{"connect-rate", c.ConnectRate}, {"command-rate", c.CommandRate}} {
		if r.got < 0 || math.IsNaN(r.got) || math.IsInf(r.got, 0) {
			p = append(p, fmt.Sprintf("--%s must be a number >= 0 (0: no limit), got %v", r.flag, r.got))
		}
	}
	for _, d := range []struct {
		flag     string
		got, min time.Duration
	}{
		{"history-ttl", c.HistoryTTL, time.Second},
		{"ping-interval", c.PingInterval, time.Second},
		{"drain-delay", c.DrainDelay, 0},
		{"drain-window", c.DrainWindow, 0},
		{"channel-meta-ttl", c.ChannelMetaTTL, c.HistoryTTL},
		{"jwt-leeway", c.JWTLeeway, 0},
		{"redis-replica-timeout", c.RedisReplicaTimeout, time.Millisecond},
		{"inbox-no-worker", c.InboxNoWorker, time.Second},
	} {
		if d.got < d.min {
			p = append(p, fmt.Sprintf("--%s must be at least %v, got %v", d.flag, d.min, d.got))
		}
	}
	if c.JWTLeeway > time.Minute {
		p = append(p, fmt.Sprintf("--jwt-leeway must be at most 1m, got %v", c.JWTLeeway))
	}
	if c.MaxReplyBytes > c.SendQueueBytes {
		p = append(p, fmt.Sprintf("--max-reply-bytes (%d) must not exceed --send-queue-bytes (%d): a reply must fit the queue", c.MaxReplyBytes, c.SendQueueBytes))
	}
	if c.MaxMessageBytes > c.SendQueueBytes {
		p = append(p, fmt.Sprintf("--max-message-bytes (%d) must not exceed --send-queue-bytes (%d): a publication must fit the queue", c.MaxMessageBytes, c.SendQueueBytes))
	}
	return p
}

// checkAuth checks that clients are authenticated one way: exactly one JWT
// key, or --dev.
func (c Config) checkAuth(p []string) []string {
	if c.JWTSecret != "" && c.JWTPublicKey != "" {
		p = append(p, "--jwt-secret and --jwt-public-key are both set: choose one")
	}
	if !c.Dev && c.JWTSecret == "" && c.JWTPublicKey == "" {
		p = append(p, "no client authentication configured: set --jwt-secret or --jwt-public-key, or --dev for development")
	}
	return p
}

// Level returns --log-level as a slog level; Info if it is not valid (which
// Validate reports).
func (c Config) Level() slog.Level {
	if l, ok := logLevels[strings.ToLower(c.LogLevel)]; ok {
		return l
	}
	return slog.LevelInfo
}
