// Command wsbench measures a wsgateway node: how many idle connections it
// holds and what each costs (-scenario idle), and how fast and how
// faithfully it fans publications out to many subscribers (-scenario
// fanout). It prints one JSON line of results on stdout; progress goes to
// stderr. With -suite it starts the gateway itself, through gatewaytest (the
// binary built as `make build` builds it), and runs the benchmarks of
// docs/benchmarks.md against it: -suite idle (19,900 connections) and
// -suite fanout-sweep (5,000 subscribers at each of -rates), and -suite
// cluster (a redis-server of its own and two nodes on it: cluster.go), and
// -suite hooks (a publish hook's overhead, breaker closed and open: hooks.go),
// one JSON line per run.
package main

import (
	"context"
	"os"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
}
