package config

import (
	"errors"
	"log/slog"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// valid returns a Config that passes Validate, changed by edit.
func valid(edit func(*Config)) Config {
	c := Default()
	c.NodeID, c.JWTSecret = "host-a", "s3cret"
	edit(&c)
	return c
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name string
		edit func(*Config)
		want []string // every problem, in Validate's order; nil: valid
	}{
		{"defaults with a JWT secret", func(*Config) {}, nil},
		{"port 0 everywhere", func(c *Config) { c.Listen, c.APIListen, c.AdminListen = ":0", ":0", "127.0.0.1:0" }, nil},
		{"floors", func(c *Config) {
			c.HistorySize, c.MaxConnections, c.MaxMessageBytes, c.MaxSubscriptions, c.SendQueue = 1, 1, 256, 1, 16
			c.PingInterval, c.HistoryTTL, c.DrainDelay, c.DrainWindow = time.Second, time.Second, 0, 0
		}, nil},
		{"every redis scheme", func(c *Config) { c.RedisURL = "redis-sentinel://:pw@h1:26379,h2:26379/mymaster" }, nil},
		{"log level in capitals", func(c *Config) { c.LogLevel = "WARN" }, nil},
		{"bad addresses", func(c *Config) { c.Listen, c.APIListen, c.AdminListen = "8080", "host:http", "[::1]:" }, []string{
			`--listen must be host:port with a numeric port such as :8080, got "8080"`,
			`--api-listen must be host:port with a numeric port such as :8080, got "host:http"`,
			`--admin-listen must be host:port with a numeric port such as :8080, got "[::1]:"`,
		}},
		{"same port twice", func(c *Config) { c.AdminListen = ":8080" }, []string{
			`--listen and --admin-listen are both ":8080"`,
		}},
		{"redis without a scheme", func(c *Config) { c.RedisURL = "localhost:6379" }, []string{
			`--redis-url must be SCHEME://HOSTS with SCHEME one of redis, rediss, redis-sentinel, redis-cluster, got "localhost:6379"`,
		}},
		{"redis URL password hidden", func(c *Config) { c.RedisURL = "http://:hunter2@h:6379" }, []string{
			`--redis-url must be SCHEME://HOSTS with SCHEME one of redis, rediss, redis-sentinel, redis-cluster, got "http://:xxxxx@h:6379"`,
		}},
		{"redis without hosts", func(c *Config) { c.RedisURL = "redis://" }, []string{
			`--redis-url must be SCHEME://HOSTS with SCHEME one of redis, rediss, redis-sentinel, redis-cluster, got "redis://"`,
		}},
		{"rates not finite", func(c *Config) { c.ConnectRate, c.CommandRate = math.NaN(), math.Inf(1) }, []string{
			"--connect-rate must be a number >= 0 (0: no limit), got NaN",
			"--command-rate must be a number >= 0 (0: no limit), got +Inf",
		}},
		{"no node id", func(c *Config) { c.NodeID = "" }, []string{
			"--node-id is empty and the host name is unknown: set --node-id",
		}},
		{"both JWT keys", func(c *Config) { c.JWTPublicKey = "/k.pem" }, []string{
			"--jwt-secret and --jwt-public-key are both set: choose one",
		}},
		{"leeway over a minute", func(c *Config) { c.JWTLeeway = 61 * time.Second }, []string{
			"--jwt-leeway must be at most 1m, got 1m1s",
		}},
		{"meta outlived by history", func(c *Config) { c.ChannelMetaTTL = c.HistoryTTL - time.Second }, []string{
			"--channel-meta-ttl must be at least 10m0s, got 9m59s",
		}},
		{"reply larger than the queue", func(c *Config) { c.MaxReplyBytes = c.SendQueueBytes + 1 }, []string{
			"--max-reply-bytes (4194305) must not exceed --send-queue-bytes (4194304): a reply must fit the queue",
		}},
		{"frame larger than the queue", func(c *Config) { c.MaxMessageBytes = c.SendQueueBytes + 1 }, []string{
			"--max-message-bytes (4194305) must not exceed --send-queue-bytes (4194304): a publication must fit the queue",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, valid(tt.edit).Validate(), tt.want)
		})
	}
}

// TestValidateListsEveryProblem breaks every rule at once: one error must
// name them all, on one line.
func TestValidateListsEveryProblem(t *testing.T) {
	c := Config{
		Listen: "nope", APIListen: ":8081", AdminListen: ":8081",
		HistorySize: 0, MaxConnections: -1, MaxMessageBytes: 255, MaxSubscriptions: 0, SendQueue: 15,
		ConnectRate: -1, CommandRate: -0.5,
		HistoryTTL: 0, PingInterval: 999 * time.Millisecond, DrainDelay: -time.Second, DrainWindow: -1,
		RedisURL: "memcached://x", LogLevel: "verbose",
	}
	checkProblems(t, c.Validate(), []string{
		`--listen must be host:port with a numeric port such as :8080, got "nope"`,
		`--api-listen and --admin-listen are both ":8081"`,
		"--history-size must be at least 1, got 0",
		"--max-connections must be at least 1, got -1",
		"--max-message-bytes must be at least 256, got 255",
		"--max-subscriptions must be at least 1, got 0",
		"--send-queue must be at least 16, got 15",
		"--send-queue-bytes must be at least 65536, got 0",
		"--max-reply-bytes must be at least 4096, got 0",
		"--history-max-channels must be at least 1, got 0",
		"--inbox-max-len must be at least 1, got 0",
		"--inbox-partitions must be at least 1, got 0",
		"--connect-rate must be a number >= 0 (0: no limit), got -1",
		"--command-rate must be a number >= 0 (0: no limit), got -0.5",
		"--history-ttl must be at least 1s, got 0s",
		"--ping-interval must be at least 1s, got 999ms",
		"--drain-delay must be at least 0s, got -1s",
		"--drain-window must be at least 0s, got -1ns",
		"--redis-replica-timeout must be at least 1ms, got 0s",
		"--inbox-no-worker must be at least 1s, got 0s",
		"--max-message-bytes (255) must not exceed --send-queue-bytes (0): a publication must fit the queue",
		"no client authentication configured: set --jwt-secret or --jwt-public-key, or --dev for development",
		"--node-id is empty and the host name is unknown: set --node-id",
		`--redis-url must be SCHEME://HOSTS with SCHEME one of redis, rediss, redis-sentinel, redis-cluster, got "memcached://x"`,
		`--log-level must be debug, info, warn or error, got "verbose"`,
	})
}

func TestClientAuthenticationRequired(t *testing.T) {
	const noAuth = "no client authentication configured: set --jwt-secret or --jwt-public-key, or --dev for development"
	tests := []struct {
		name string
		edit func(*Config)
		want []string
	}{
		{"nothing", func(c *Config) { c.JWTSecret = "" }, []string{noAuth}},
		{"api key is not client auth", func(c *Config) { c.JWTSecret, c.APIKey = "", "k" }, []string{noAuth}},
		{"dev", func(c *Config) { c.JWTSecret, c.Dev = "", true }, nil},
		{"secret", func(c *Config) {}, nil},
		{"public key", func(c *Config) { c.JWTSecret, c.JWTPublicKey = "", "/k.pem" }, nil},
		{"dev and a key", func(c *Config) { c.Dev = true }, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkProblems(t, valid(tt.edit).Validate(), tt.want)
		})
	}
}

func TestLevel(t *testing.T) {
	tests := []struct {
		level string
		want  slog.Level
	}{
		{"debug", slog.LevelDebug}, {"info", slog.LevelInfo}, {"Warn", slog.LevelWarn},
		{"ERROR", slog.LevelError}, {"bogus", slog.LevelInfo},
	}
	for _, tt := range tests {
		if got := (Config{LogLevel: tt.level}).Level(); got != tt.want {
			t.Errorf("Level() with --log-level=%s = %v, want %v", tt.level, got, tt.want)
		}
	}
}

// checkProblems asserts that err lists exactly want, on one line.
func checkProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("Validate: %v, want nil", err)
		}
		return
	}
	var verr *ValidationError
	if !errors.As(err, &verr) {
		t.Fatalf("Validate = %v, want a *ValidationError", err)
	}
	if diff := cmp.Diff(want, verr.Problems); diff != "" {
		t.Errorf("problems (-want +got):\n%s", diff)
	}
	msg := err.Error()
	for _, p := range want {
		if !strings.Contains(msg, p) {
			t.Errorf("message %q lacks %q", msg, p)
		}
	}
	if strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "config: ") {
		t.Errorf("message %q: want one line starting with \"config: \"", msg)
	}
}
