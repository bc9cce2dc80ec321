// Command testenv starts real gateways for the tests of the other client
// languages (JavaScript now, Java later), through the same harness the Go
// tests use: nodes from gatewaytest, Redis from redistest, HAProxy from
// loadtest/lb with loadtest/haproxy.cfg. A test written in another language
// spawns it, reads one JSON line describing what runs, drives the nodes with
// JSON commands on stdin, and closes stdin when it is done.
//
//	testenv [-nodes N] [-redis] [-lb] [-hooks-example] [-gateway PATH] [-logs DIR] [-- gateway flags...]
//
// It builds nothing itself: the gateway is -gateway PATH (bin/wsgateway
// from `make build`), or, without it, gatewaytest's build of the binary.
// Every process listens on a free port of 127.0.0.1. Once every node
// answers /readyz (and, with -redis, every node sees the others; with -lb,
// HAProxy routes to them), it prints one line on stdout:
//
//	$ testenv -nodes 2 -redis -- --dev --drain-delay 0s
//	{"redis":"redis://127.0.0.1:41001","nodes":[
//	  {"index":0,"id":"n0","ws":"ws://127.0.0.1:41003/ws","http":"http://127.0.0.1:41003",
//	   "api":"http://127.0.0.1:41004","admin":"http://127.0.0.1:41005","pid":1234}, ...]}
//
// (on one line; with -lb also "lb":"ws://127.0.0.1:P/ws" and "lb_api").
// With -hooks-example it also serves the reference backend (examples/backend,
// in this process: sessions s1..s4 are alice, bob, carol and dave, "spam" is
// banned and "darn" masked; hooks.go) and gives every node the example's
// hooks.yaml pointed at it, and the line has "backend":"http://127.0.0.1:P".
// Then each line on stdin is a command, answered by one line on stdout:
//
//	{"op":"signal","node":0,"signal":"TERM"}  -> {"ok":true}          SIGTERM starts the drain (also INT, KILL, STOP, CONT)
//	{"op":"kill","node":1}                    -> {"ok":true}          SIGKILL, and waits for the exit
//	{"op":"restart","node":1}                 -> the node's new entry  kills it if it runs, starts it on the same ports
//	{"op":"wait","node":0,"timeout":30}       -> {"exit_code":0}      waits for the exit (timeout in seconds, default 60)
//
// A command that fails answers {"error":"..."}. On stdin's end (which also
// cuts a pending wait short), SIGTERM or
// SIGINT it stops everything it started, newest first, each by its PID, and
// exits, so a test that crashes (its end of the pipe closes) leaves no
// process behind. Gateway logs go to stderr, each line prefixed by the
// node's id, or with -logs DIR to DIR/n0.log, DIR/n1.log, DIR/haproxy.log.
//
// HAProxy's config names three servers: with -lb and fewer than three nodes
// the missing slots repeat the first nodes, and more than three is refused.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run starts the environment, serves commands until stdin ends or ctx is
// done, and stops everything. It returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "testenv:", err)
		return 2
	}
	env, err := start(cfg, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "testenv:", err)
		return 1
	}
	serveErr := serve(ctx, env, stdin, stdout)
	closeErr := env.closers.Close()
	if serveErr != nil || closeErr != nil {
		fmt.Fprintln(stderr, "testenv:", errors.Join(serveErr, closeErr))
		return 1
	}
	return 0
}
