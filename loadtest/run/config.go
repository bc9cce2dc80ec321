package main

import (
	"flag"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/jmeter"
	"github.com/wsgateway/wsgateway/loadtest/quiet"
	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// k6Version is the k6 the scenarios are written for; the Makefile's
// K6_VERSION installs it (loadtest's TestK6PinMatchesMakefile keeps the two
// equal).
const k6Version = "v1.8.1"

// modeScenarios are the scenarios each mode runs by default, in order.
var modeScenarios = map[string][]string{
	"smoke": {"connect-storm", "fanout", "reconnect-storm"},
	"full":  {"connect-storm", "fanout", "wsbench-fanout", "jmeter-fanout", "reconnect-storm", "reconnect-storm-kill", "soak"},
}

// config is the command line.
type config struct {
	mode          string
	scenarios     []string
	root, results string
	k6, wsbench   string
	jmeterHome    string
	drainWindow   string
	lbMaxConn     int
	connectPoints []int
	fanoutSubs    int
	fanoutRate    int
	wsbenchConns  int
	wsbenchRates  string
	stormClients  int // 0: the mode's default
	soak          time.Duration
	quiet         quiet.Config
}

// parseFlags reads the command line; the defaults are those of the bash
// script this command replaced (its environment knobs are these flags).
func parseFlags(args []string) (config, error) {
	var c config
	root, err := gatewaytest.ModuleRoot()
	if err != nil {
		return c, err
	}
	c.root = root
	fs := flag.NewFlagSet("loadtest/run", flag.ContinueOnError)
	fs.StringVar(&c.mode, "mode", "full", "smoke (the CI gate) or full")
	scenarios := fs.String("scenarios", "", "the scenarios to run, separated by spaces (default: the mode's)")
	fs.StringVar(&c.results, "results", filepath.Join(root, "loadtest", "results"), "where the results go")
	fs.StringVar(&c.k6, "k6", filepath.Join(root, ".tools", "k6-"+k6Version, "k6"), "the k6 binary (make k6)")
	fs.StringVar(&c.wsbench, "wsbench", filepath.Join(root, "bin", "wsbench"), "the wsbench binary (make build)")
	fs.StringVar(&c.jmeterHome, "jmeter-home", jmeter.DefaultHome(filepath.Join(root, "loadtest", "jmeter")),
		"the JMeter home (make jmeter; built with Maven when missing)")
	fs.StringVar(&c.drainWindow, "drain-window", "8s", "the nodes' --drain-window")
	fs.IntVar(&c.lbMaxConn, "lb-maxconn", 9000, "HAProxy's connections per frontend")
	points := fs.String("connect-points", "1000 3000 6000", "full connect-storm: connections per run; the last is the scenario's summary")
	fs.IntVar(&c.fanoutSubs, "fanout-subs", 500, "full fanout: subscribers")
	fs.IntVar(&c.fanoutRate, "fanout-rate", 20, "full fanout: publications/s")
	fs.IntVar(&c.wsbenchConns, "wsbench-conns", 3000, "wsbench-fanout: subscribers")
	fs.StringVar(&c.wsbenchRates, "wsbench-rates", "5 10 20 30", "wsbench-fanout: publications/s, one run each")
	fs.IntVar(&c.stormClients, "storm-clients", 0, "reconnect storms: clients (default 150 smoke, 600 full)")
	fs.DurationVar(&c.soak, "soak-duration", 3*time.Minute, "full soak: how long")
	c.quiet.Register(fs, "full", "before the first scenario")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	if fs.NArg() > 0 {
		return c, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	defaults, ok := modeScenarios[c.mode]
	if !ok {
		return c, fmt.Errorf("-mode %q: want smoke or full", c.mode)
	}
	c.scenarios = strings.Fields(*scenarios)
	if len(c.scenarios) == 0 {
		c.scenarios = defaults
	}
	for _, s := range c.scenarios {
		if !slices.Contains(defaults, s) {
			return c, fmt.Errorf("unknown scenario %q for %s mode (%s)", s, c.mode, strings.Join(defaults, " "))
		}
	}
	if c.connectPoints, err = parseInts(*points); err != nil {
		return c, fmt.Errorf("-connect-points: %w", err)
	}
	if c.stormClients == 0 {
		c.stormClients = map[string]int{"smoke": 150, "full": 600}[c.mode]
	}
	return c, nil
}

// parseInts reads "1000 3000 6000".
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Fields(s) {
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive count", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no counts")
	}
	return out, nil
}
