package config

import (
	"errors"
	"flag"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// cmpConfig compares Configs, whose netip.Prefix values have unexported fields.
var cmpConfig = cmpopts.EquateComparable(netip.Prefix{})

// noEnv is a getenv for an empty environment.
func noEnv(string) string { return "" }

// envOf is a getenv reading from m.
func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// withDefaults returns the defaults Load gives on host "host-a", changed by edit.
func withDefaults(edit func(*Config)) Config {
	c := Default()
	c.NodeID = "host-a"
	edit(&c)
	return c
}

// everyFlag sets every flag to a value other than its default; wantEvery is
// the Config it makes.
var everyFlag = []struct{ name, value string }{
	{"listen", "127.0.0.1:1001"},
	{"api-listen", "127.0.0.1:1002"},
	{"admin-listen", "[::1]:1003"},
	{"node-id", "node-7"},
	{"zone", "eu-west-1a"},
	{"redis-url", "redis-cluster://h1:7000,h2:7001"},
	{"redis-min-replicas", "1"},
	{"redis-replica-timeout", "2s"},
	{"inbox-max-len", "500"},
	{"inbox-no-worker", "10s"},
	{"inbox-partitions", "4"},
	{"events", "true"},
	{"vacated-delay", "1s"},
	{"webhook-url", "https://hooks.example/events"},
	{"webhook-secret", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
	{"webhook-retry-window", "10m"},
	{"join-leave-namespaces", "chat,game"},
	{"jwt-secret", "s3cret"},
	{"jwt-public-key", ""}, // may not be combined with jwt-secret: TestLoadEverySetting sets it alone
	{"jwt-audience", "clients"},
	{"jwt-issuer", "https://issuer.example"},
	{"jwt-leeway", "30s"},
	{"hooks-config", "/etc/wsg/hooks.yaml"},
	{"api-key", "k3y"},
	{"allowed-origins", "https://a.example, https://*.b.example"},
	{"dev", "true"},
	{"history-size", "50"},
	{"history-ttl", "1h"},
	{"channel-meta-ttl", "2h"},
	{"history-max-channels", "500"},
	{"ping-interval", "10s"},
	{"max-connections", "2000"},
	{"max-message-bytes", "1024"},
	{"compression", "true"},
	{"max-subscriptions", "20"},
	{"connect-rate", "2.5"},
	{"trusted-proxies", "10.0.0.0/8,192.168.1.7"},
	{"command-rate", "0"},
	{"drain-delay", "0s"},
	{"drain-window", "1m"},
	{"send-queue", "64"},
	{"send-queue-bytes", "131072"},
	{"max-reply-bytes", "65536"},
	{"log-level", "debug"},
	{"pprof", "true"},
}

var wantEvery = Config{
	Listen: "127.0.0.1:1001", APIListen: "127.0.0.1:1002", AdminListen: "[::1]:1003",
	NodeID: "node-7", Zone: "eu-west-1a",
	RedisURL:         "redis-cluster://h1:7000,h2:7001",
	RedisMinReplicas: 1, RedisReplicaTimeout: 2 * time.Second,
	InboxMaxLen: 500, InboxNoWorker: 10 * time.Second, InboxPartitions: 4,
	Events: true, VacatedDelay: time.Second, WebhookURL: "https://hooks.example/events",
	WebhookSecret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", WebhookRetryWindow: 10 * time.Minute,
	JoinLeaveNamespaces: []string{"chat", "game"},
	JWTSecret:           "s3cret", JWTAudience: "clients", JWTIssuer: "https://issuer.example",
	JWTLeeway:      30 * time.Second,
	HooksConfig:    "/etc/wsg/hooks.yaml",
	APIKey:         "k3y",
	AllowedOrigins: []string{"https://a.example", "https://*.b.example"},
	Dev:            true,
	HistorySize:    50, HistoryTTL: time.Hour, PingInterval: 10 * time.Second,
	ChannelMetaTTL: 2 * time.Hour, HistoryChannels: 500,
	MaxConnections: 2000, MaxMessageBytes: 1024, Compression: true, MaxSubscriptions: 20,
	ConnectRate: 2.5,
	TrustedProxies: []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
	},
	CommandRate: 0, DrainDelay: 0, DrainWindow: time.Minute,
	SendQueue: 64, SendQueueBytes: 128 << 10, MaxReplyBytes: 64 << 10, LogLevel: "debug", Pprof: true,
}

func TestEveryFlagIsTested(t *testing.T) {
	var c Config
	var want, got []string
	for _, s := range specs(&c) {
		want = append(want, s.name)
	}
	for _, f := range everyFlag {
		got = append(got, f.name)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("everyFlag does not list every flag in order (-specs +everyFlag):\n%s", diff)
	}
}

func TestLoadDefaults(t *testing.T) {
	got, err := Load([]string{"--dev"}, noEnv, "host-a")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	// The contract's table, restated: Default must keep to it.
	want := Config{
		Listen: ":8080", APIListen: ":8081", AdminListen: ":9090",
		NodeID: "host-a", Dev: true,
		HistorySize: 1000, HistoryTTL: 10 * time.Minute, PingInterval: 25 * time.Second,
		MaxConnections: 100000, MaxMessageBytes: 65536, MaxSubscriptions: 1000,
		CommandRate: 100, DrainDelay: 5 * time.Second, DrainWindow: 20 * time.Second,
		SendQueue: 1024, LogLevel: "info",
		// Additions beyond the contract's table (docs/operations.md).
		RedisReplicaTimeout: 500 * time.Millisecond, JWTLeeway: 5 * time.Second,
		ChannelMetaTTL: 24 * time.Hour, HistoryChannels: 100000,
		SendQueueBytes: 4 << 20, MaxReplyBytes: 1 << 20,
		// CONTRACT §7.
		InboxMaxLen: 100000, InboxNoWorker: 30 * time.Second, InboxPartitions: 16,
		VacatedDelay: 3 * time.Second, WebhookRetryWindow: time.Hour,
	}
	if diff := cmp.Diff(want, got, cmpConfig); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
}

func TestLoadEverySetting(t *testing.T) {
	var args []string
	env := map[string]string{}
	for _, f := range everyFlag {
		if f.value != "" {
			args = append(args, "--"+f.name+"="+f.value)
			env[EnvName(f.name)] = f.value
		}
	}
	withKey := withDefaults(func(c *Config) { c.Dev, c.JWTPublicKey = true, "/etc/wsg/key.pem" })
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want Config
	}{
		{"command line", args, nil, wantEvery},
		{"environment", nil, env, wantEvery},
		{"jwt-public-key from the command line", []string{"--dev", "--jwt-public-key", "/etc/wsg/key.pem"}, nil, withKey},
		{"jwt-public-key from the environment", []string{"--dev"},
			map[string]string{"WSG_JWT_PUBLIC_KEY": "/etc/wsg/key.pem"}, withKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.args, envOf(tt.env), "host-a")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got, cmpConfig); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestFlagWinsOverEnvironment(t *testing.T) {
	env := map[string]string{
		"WSG_HISTORY_SIZE": "5", "WSG_DEV": "false", "WSG_JWT_SECRET": "from-env",
		"WSG_ZONE": "env-zone", "WSG_LISTEN": ":7000",
	}
	got, err := Load([]string{"--history-size", "7", "--dev", "--zone="}, envOf(env), "host-a")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	want := withDefaults(func(c *Config) {
		c.HistorySize, c.Dev, c.Zone = 7, true, ""  // the command line wins, even when it sets ""
		c.JWTSecret, c.Listen = "from-env", ":7000" // not on the command line: the variables apply
	})
	if diff := cmp.Diff(want, got, cmpConfig); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestEnvironmentBooleans(t *testing.T) {
	for _, v := range []string{"1", "t", "TRUE", "true", "True"} {
		got, err := Load(nil, envOf(map[string]string{"WSG_DEV": v, "WSG_COMPRESSION": v}), "h")
		if err != nil {
			t.Fatalf("WSG_DEV=%s: %v", v, err)
		}
		if !got.Dev || !got.Compression {
			t.Errorf("WSG_DEV=%s WSG_COMPRESSION=%[1]s: Dev %v, Compression %v, want both true", v, got.Dev, got.Compression)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		want string
	}{
		{"bad int flag", []string{"--history-size", "abc"}, nil,
			`config: invalid value "abc" for flag --history-size: parse error (want an integer)`},
		{"bad duration flag", []string{"--ping-interval=25"}, nil,
			`config: invalid value "25" for flag --ping-interval: parse error (want a duration such as 25s or 1m30s)`},
		{"bad bool flag", []string{"--dev=maybe"}, nil,
			`config: invalid value "maybe" for flag --dev: parse error (want true or false)`},
		{"bad float flag", []string{"--connect-rate", "fast"}, nil,
			`config: invalid value "fast" for flag --connect-rate: parse error (want a number)`},
		{"bad CIDR flag", []string{"--trusted-proxies", "10.0.0.0/8,10.0.0.0/33"}, nil,
			`config: invalid value "10.0.0.0/8,10.0.0.0/33" for flag --trusted-proxies: bad CIDR "10.0.0.0/33": want an address/bits such as 10.0.0.0/8`},
		{"bad int variable", nil, map[string]string{"WSG_HISTORY_SIZE": "abc"},
			`config: invalid value "abc" for environment variable WSG_HISTORY_SIZE: parse error (want an integer)`},
		{"bad duration variable", nil, map[string]string{"WSG_DRAIN_WINDOW": "20"},
			`config: invalid value "20" for environment variable WSG_DRAIN_WINDOW: parse error (want a duration such as 25s or 1m30s)`},
		{"bad bool variable", nil, map[string]string{"WSG_DEV": "yes"},
			`config: invalid value "yes" for environment variable WSG_DEV: parse error (want true or false)`},
		{"bad CIDR variable", nil, map[string]string{"WSG_TRUSTED_PROXIES": "proxy.local"},
			`config: invalid value "proxy.local" for environment variable WSG_TRUSTED_PROXIES: bad CIDR "proxy.local": want an address/bits such as 10.0.0.0/8, or one IP address`},
		{"unknown flag", []string{"--dev", "--bogus=1"}, nil,
			`config: unknown flag --bogus (see --help)`},
		{"missing value", []string{"--listen"}, nil,
			`config: flag --listen needs a value`},
		{"positional argument", []string{"--dev", "serve"}, nil,
			`config: unexpected argument "serve": wsgateway takes flags only (see --help)`},
		{"argument after --", []string{"--", "--dev"}, nil,
			`config: unexpected argument "--dev": wsgateway takes flags only (see --help)`},
		{"invalid setting", []string{"--history-size=0"}, nil,
			`config: --history-size must be at least 1, got 0; no client authentication configured: set --jwt-secret or --jwt-public-key, or --dev for development`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.args, envOf(tt.env), "host-a")
			if err == nil {
				t.Fatalf("Load succeeded, want error %q", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("error is more than one line: %q", err)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"-help"}, {"--dev", "--help"}} {
		_, err := Load(args, noEnv, "host-a")
		if !errors.Is(err, ErrHelp) || !errors.Is(err, flag.ErrHelp) {
			t.Errorf("Load(%q) = %v, want ErrHelp", args, err)
		}
	}
}

func TestLists(t *testing.T) {
	tests := []struct {
		name        string
		origins     string
		proxies     string
		wantOrigins []string
		wantProxies []netip.Prefix
	}{
		{name: "empty"},
		{name: "only commas and spaces", origins: " , ,", proxies: ", "},
		{
			name: "trimmed, empties dropped", origins: " https://a.example ,, http://b.example:8000 ,",
			wantOrigins: []string{"https://a.example", "http://b.example:8000"},
		},
		{
			name: "CIDRs and bare addresses", proxies: "10.0.0.0/8, 192.168.1.7 ,2001:db8::/32,::1,fe80::1%eth0",
			wantProxies: []netip.Prefix{
				netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
				netip.MustParsePrefix("2001:db8::/32"), netip.MustParsePrefix("::1/128"),
				netip.MustParsePrefix("fe80::1/128"),
			},
		},
		{
			name: "host bits cleared", proxies: "10.1.2.3/8",
			wantProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"--dev", "--allowed-origins", tt.origins, "--trusted-proxies", tt.proxies}
			got, err := Load(args, noEnv, "host-a")
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.wantOrigins, got.AllowedOrigins); diff != "" {
				t.Errorf("AllowedOrigins (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantProxies, got.TrustedProxies, cmpConfig); diff != "" {
				t.Errorf("TrustedProxies (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLastListFlagWins(t *testing.T) {
	got, err := Load([]string{"--dev", "--allowed-origins=a", "--allowed-origins=b,c"}, noEnv, "h")
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if diff := cmp.Diff([]string{"b", "c"}, got.AllowedOrigins); diff != "" {
		t.Errorf("AllowedOrigins (-want +got):\n%s", diff)
	}
}
