// Command run is the capacity test: `make capacity-smoke` (go run
// ./loadtest/run -mode smoke, the CI gate, about 2 minutes) and `make
// loadtest` (-mode full, about 12 minutes). It runs a redis-server of its
// own (redistest.Run), three gateway nodes in cluster mode (gatewaytest),
// and Debian's HAProxy with loadtest/haproxy.cfg in front of them (package
// lb, as the capacity gate's test starts it); clients and publishers go
// through HAProxy only. It runs the k6 scenarios of loadtest/k6 and, in full
// mode, wsbench's heavy fan-out points and the JMeter plan of loadtest/jmeter
// at k6's fan-out load (jmeter.go), samples every node's /metrics to
// CSV, and writes loadtest/results/ (see results.go). It stops only the
// processes it started, by their PIDs.
//
// It is a command of its own next to loadtest/report rather than a wsbench
// suite: wsbench is the load generator that this command runs as a child
// (one of its tools, with k6), and the capacity run's inputs (the k6
// scripts, haproxy.cfg) and its reader (the report) all live in loadtest/.
//
// The exit status is 1 when a threshold is missed, a message is lost, the
// drained node does not exit 0, or the setup fails; 2 for bad flags.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:])
	stop()
	os.Exit(code)
}

// run parses the flags, starts the cluster, runs the scenarios and writes
// the manifest; it returns the exit status.
func run(ctx context.Context, args []string) int {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	cfg, err := parseFlags(args)
	if err != nil {
		fmt.Fprintln(os.Stderr, "loadtest/run:", err)
		return 2
	}
	r, err := newRunner(ctx, log, cfg)
	if err != nil {
		log.Error("setup", "err", err)
		return 1
	}
	defer r.close()
	return r.runAll(ctx)
}
