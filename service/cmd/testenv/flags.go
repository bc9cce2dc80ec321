package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
)

// config is testenv's own flags; gatewayArgs are the flags after "--",
// passed to every node.
type config struct {
	nodes        int
	redis, lb    bool
	hooksExample bool   // serve examples/backend and give every node its hooks.yaml
	gateway      string // the binary; empty: gatewaytest builds one
	logs         string // directory for the logs; empty: stderr
	haproxyCfg   string // empty: loadtest/haproxy.cfg of the module
	gatewayArgs  []string
}

// parseFlags reads args; the usage goes to stderr.
func parseFlags(args []string, stderr io.Writer) (config, error) {
	var c config
	fs := flag.NewFlagSet("testenv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&c.nodes, "nodes", 1, "gateway nodes to start")
	fs.BoolVar(&c.redis, "redis", false, "start a redis-server and give every node --redis-url")
	fs.BoolVar(&c.lb, "lb", false, "put HAProxy (loadtest/haproxy.cfg) in front of the nodes; at most 3 nodes")
	fs.BoolVar(&c.hooksExample, "hooks-example", false, "serve the reference backend (examples/backend) on a free port and give every node its hooks.yaml, pointed at it")
	fs.StringVar(&c.gateway, "gateway", "", "the wsgateway binary (default: gatewaytest builds it)")
	fs.StringVar(&c.logs, "logs", "", "write each process's log to this directory instead of stderr")
	fs.StringVar(&c.haproxyCfg, "haproxy-cfg", "", "HAProxy config (default: loadtest/haproxy.cfg of the module)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: testenv [-nodes N] [-redis] [-lb] [-hooks-example] [-gateway PATH] [-logs DIR] [-- gateway flags...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.gatewayArgs = fs.Args()
	switch {
	case c.nodes < 1:
		return c, fmt.Errorf("-nodes %d: need at least one node", c.nodes)
	case c.lb && c.nodes > 3:
		return c, fmt.Errorf("-lb with -nodes %d: loadtest/haproxy.cfg balances at most 3 nodes", c.nodes)
	}
	return c, nil
}

// flagValue returns the last value of the gateway flag name (without
// dashes) in args, in any of the forms the flag package accepts.
func flagValue(args []string, name string) string {
	val := ""
	for i := 0; i < len(args); i++ {
		a := strings.TrimLeft(args[i], "-")
		if len(a) == len(args[i]) {
			continue
		}
		if k, v, ok := strings.Cut(a, "="); ok && k == name {
			val = v
		} else if a == name && i+1 < len(args) {
			val = args[i+1]
			i++
		}
	}
	return val
}
