package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// suites maps each -suite to the scenario it runs.
var suites = map[string]string{"idle": "idle", "fanout-sweep": "fanout", "cluster": "fanout", "hooks": "hooks", "inbox": "inbox"}

// suiteConns are the default -conns of the suites: 19,900 idle connections
// (the open-file limit here is 20,000 per process, and the tool needs a few
// of its own), 5,000 subscribers per fan-out run (5,000 x 2..30 msg/s =
// 10k..150k deliveries/s).
var suiteConns = map[string]int{"idle": 19900, "fanout-sweep": 5000, "cluster": 5000, "hooks": 16, "inbox": 10000}

// suiteGatewayArgs are the flags of the gateway a suite starts: --dev (no
// token, no API key) and no drain, so that stopping it is immediate. Its
// log stays at info: gatewaytest reads the "listening" line, and nothing
// per connection is logged at that level.
var suiteGatewayArgs = []string{"--dev", "--drain-delay", "0s", "--drain-window", "0s"}

// settle is the pause between two runs of a sweep: the gateway finishes
// closing the last run's connections before the next opens its own.
const settle = 2 * time.Second

// suiteFlags are the suites' flags that parseFlags reads as text.
type suiteFlags struct {
	rates, gatewayArgs, hookConns *string
}

// registerSuite declares -suite and the flags of the suites.
func (c *config) registerSuite(fs *flag.FlagSet) suiteFlags {
	fs.StringVar(&c.suite, "suite", "", "idle, fanout-sweep, cluster, hooks or inbox: build and start the gateway (and Redis), run the benchmarks of docs/benchmarks.md against it, stop it (overrides -scenario, -url, -api and -server-pid)")
	c.cluster.register(fs)
	return suiteFlags{
		rates:       fs.String("rates", "2 5 10 20 30", "fanout-sweep and the cluster sweep part: publication rates, one run each (spaces or commas)"),
		gatewayArgs: fs.String("gateway-args", "", "suites: extra gateway flags, separated by spaces"),
		hookConns:   fs.String("hook-conns", "1 16", "hooks: connections publishing in a closed loop, one run per phase each (spaces or commas)"),
	}
}

// suiteDefaults applies -suite to the flags not given and reads the suites'
// own flags.
func (c *config) suiteDefaults(fs *flag.FlagSet, sf suiteFlags) error {
	var err error
	if c.rates, err = parseRates(*sf.rates); err != nil {
		return err
	}
	c.gatewayArgs = strings.Fields(*sf.gatewayArgs)
	if c.hookConns, err = parseConns(*sf.hookConns); err != nil {
		return err
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if scenario, ok := suites[c.suite]; ok {
		c.scenario = scenario
		if !given["conns"] {
			c.conns = suiteConns[c.suite]
		}
	}
	return nil
}

// runSuite builds the gateway (as `make build` does, without -race: the
// figures are the production binary's), starts one --dev node on ports the
// kernel picks, runs the suite's scenario against it, once or once per
// rate, printing one JSON line per run, and kills the node, by its PID.
// It returns the exit code: 1 when any run was cut short.
func runSuite(ctx context.Context, log *slog.Logger, cfg config, stdout, stderr io.Writer) int {
	if err := checkOpenFiles(cfg.conns); err != nil {
		log.Error("open files", "err", err)
		return 1
	}
	if cfg.suite == "cluster" {
		return runCluster(ctx, log, cfg, stdout, stderr)
	}
	if cfg.suite == "hooks" {
		return runHooks(ctx, log, cfg, stdout)
	}
	if cfg.suite == "inbox" {
		return runInbox(ctx, log, cfg, stdout) // inbox.go
	}
	node, err := gatewaytest.Launch(gatewaytest.Options{Args: append(suiteGatewayArgs, cfg.gatewayArgs...)})
	if err != nil {
		log.Error("start the gateway", "err", err)
		return 1
	}
	defer func() {
		if err := node.Close(); err != nil {
			log.Warn("stop the gateway", "err", err)
		}
	}()
	log.Info("gateway ready", "pid", node.PID(), "client", node.Client, "api", node.API, "admin", node.Admin)
	cfg.url, cfg.api, cfg.serverPID = node.URL(), node.APIURL(), node.PID()
	if cfg.suite == "idle" {
		return emit(stdout, log, runScenario(ctx, log, cfg))
	}
	code := 0
	for i, rate := range cfg.rates {
		if i > 0 && sleep(ctx, settle) != nil {
			break
		}
		cfg.rate = rate
		if !cfg.channelGiven {
			cfg.channel = freshChannel()
		}
		log.Info("fanout-sweep", "subscribers", cfg.conns, "rate", rate)
		// A run cut short still prints its line (with "error"); the sweep
		// goes on to the next rate.
		code = max(code, emit(stdout, log, runScenario(ctx, log, cfg)))
	}
	return code
}

// parseConns reads a list of connection counts separated by spaces or
// commas.
func parseConns(s string) ([]int, error) {
	var ns []int
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-hook-conns: %q is not a positive number", f)
		}
		ns = append(ns, n)
	}
	return ns, nil
}
