package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// connsPerSourceIP is how many connections the automatic -source-ips puts on
// one source address. The ephemeral port range (net.ipv4.ip_local_port_range,
// usually ~28k ports) bounds connections per (source IP, server address), but
// the kernel's search for a free port slows down long before that: measured
// here, 19,900 connections from one address opened at ~2k/s with 80% of the
// tool's CPU in connect(2); spread over four, at ~5k/s. So each address is
// kept under a fifth of its port range.
const connsPerSourceIP = 5000

// config is every flag of wsbench, validated.
type config struct {
	scenario        string
	url             string
	api             string
	apiKey          string
	token           string
	conns           int
	rate            float64
	duration        time.Duration
	warmup          time.Duration
	hold            time.Duration
	drain           time.Duration
	payload         int
	sourceIPs       int
	serverPID       int
	dialConcurrency int
	dialTimeout     time.Duration
	channel         string
	subscribe       string
	timeout         time.Duration
	cpuProfile      string

	// The suites (suite.go): wsbench starts the gateway itself.
	suite         string
	rates         []float64 // fanout-sweep: one run per rate
	hookConns     []int     // hooks: one run per phase and count
	gatewayArgs   []string  // extra gateway flags
	channelGiven  bool      // -channel was set; otherwise each run gets a fresh one
	autoSourceIPs bool      // -source-ips was 0: each run sets it from its -conns
	cluster       clusterConfig

	// Hooks of a suite into one run; nil outside the cluster suite. They
	// must not block.
	onWindow func(from, to time.Time) // fanout: the measured window, once set
	onHold   func()                   // idle: the hold begins
}

// parseFlags reads args. Problems are listed together in one error.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("wsbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&c.scenario, "scenario", "idle", "idle or fanout")
	fs.StringVar(&c.url, "url", "ws://127.0.0.1:8080/ws", "gateway WebSocket URL")
	fs.StringVar(&c.api, "api", "http://127.0.0.1:8081", "gateway API base URL (fanout publisher)")
	fs.StringVar(&c.apiKey, "api-key", "", "API key (not needed against a --dev gateway)")
	fs.StringVar(&c.token, "token", "", "JWT sent in every connect (not needed against a --dev gateway)")
	fs.IntVar(&c.conns, "conns", 1000, "connections (idle) or subscribers (fanout)")
	fs.Float64Var(&c.rate, "rate", 10, "fanout: publications per second")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "fanout: measurement window")
	fs.DurationVar(&c.warmup, "warmup", 2*time.Second, "fanout: publishing time before the window, not measured")
	fs.DurationVar(&c.hold, "hold", 5*time.Second, "idle: how long the connections are held before the server's RSS is read")
	fs.DurationVar(&c.drain, "drain", 5*time.Second, "fanout: longest wait for the last publication to reach every subscriber")
	fs.IntVar(&c.payload, "payload", 100, "fanout: bytes of publication data (the JSON object with the send time and padding)")
	fs.IntVar(&c.sourceIPs, "source-ips", 0, "spread dials over source addresses 127.0.0.1..127.0.0.N (0: one per "+strconv.Itoa(connsPerSourceIP)+" connections)")
	fs.IntVar(&c.serverPID, "server-pid", 0, "gateway PID, to read its RSS and CPU time from /proc (0: not reported)")
	fs.IntVar(&c.dialConcurrency, "dial-concurrency", 64, "connections being opened at once")
	fs.DurationVar(&c.dialTimeout, "dial-timeout", 15*time.Second, "bound on one connection's dial, connect and subscribe")
	fs.StringVar(&c.channel, "channel", "", "fanout: channel (default: a fresh bench:fanout-<time> channel)")
	fs.StringVar(&c.subscribe, "subscribe", "", "idle: also subscribe every connection to this channel")
	fs.DurationVar(&c.timeout, "timeout", 10*time.Minute, "hard bound on the whole run")
	fs.StringVar(&c.cpuProfile, "cpuprofile", "", "write this tool's CPU profile (of the measured phase) to this file")
	suiteFlags := c.registerSuite(fs)
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if err := c.suiteDefaults(fs, suiteFlags); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	c.autoSourceIPs = c.sourceIPs == 0
	c.setConns(c.conns)
	c.channelGiven = c.channel != ""
	if !c.channelGiven {
		c.channel = freshChannel()
	}
	return c, c.validate()
}

func (c *config) validate() error {
	var p []string
	check := func(ok bool, msg string) {
		if !ok {
			p = append(p, msg)
		}
	}
	check(c.scenario == "idle" || c.scenario == "fanout" || c.scenario == "hooks" && c.suite == "hooks" || c.scenario == "inbox" && c.suite == "inbox",
		fmt.Sprintf("-scenario must be idle or fanout, got %q", c.scenario))
	check(c.suite == "" || suites[c.suite] != "", fmt.Sprintf("-suite must be idle, fanout-sweep, cluster, hooks or inbox, got %q", c.suite))
	check(c.suite != "hooks" || len(c.hookConns) > 0, "-hook-conns must name at least one count")
	check(c.conns > 0, "-conns must be positive")
	check(c.sourceIPs > 0 && c.sourceIPs <= 254, "-source-ips must be 1..254")
	check(c.dialConcurrency > 0, "-dial-concurrency must be positive")
	check(c.dialTimeout > 0, "-dial-timeout must be positive")
	check(c.timeout > 0, "-timeout must be positive")
	check(c.hold >= 0 && c.warmup >= 0 && c.drain >= 0, "-hold, -warmup and -drain must not be negative")
	check(c.serverPID >= 0, "-server-pid must not be negative")
	if c.scenario == "fanout" {
		check(c.rate > 0 && c.rate <= 1e6, "-rate must be in (0, 1e6]")
		check(c.duration > 0, "-duration must be positive")
		check(c.payload >= 0 && c.payload <= 1<<20, "-payload must be 0..1048576")
	}
	check(c.suite != "fanout-sweep" || len(c.rates) > 0, "-rates must name at least one rate")
	for _, r := range c.rates {
		check(r > 0 && r <= 1e6, fmt.Sprintf("-rates: %v must be in (0, 1e6]", r))
	}
	if len(p) > 0 {
		return errors.New(strings.Join(p, "; "))
	}
	return nil
}

// setConns sets the connection count of a run and, unless -source-ips was
// given, the source addresses it needs.
func (c *config) setConns(n int) {
	c.conns = n
	if c.autoSourceIPs {
		c.sourceIPs = (n + connsPerSourceIP - 1) / connsPerSourceIP
	}
}

// freshChannel is a channel no earlier run published to.
func freshChannel() string {
	return fmt.Sprintf("bench:fanout-%d", time.Now().UnixNano())
}

// parseRates reads a list of rates separated by spaces or commas.
func parseRates(s string) ([]float64, error) {
	var rates []float64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		r, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return nil, fmt.Errorf("-rates: %w", err)
		}
		rates = append(rates, r)
	}
	return rates, nil
}
