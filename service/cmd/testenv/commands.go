package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"syscall"
	"time"
)

// defaultWait bounds a "wait" command that names no timeout.
const defaultWait = 60 * time.Second

// command is one line on stdin.
type command struct {
	Op      string  `json:"op"`
	Node    int     `json:"node"`
	Signal  string  `json:"signal"`
	Timeout float64 `json:"timeout"` // seconds, for "wait"
}

// signals are the names "signal" accepts.
var signals = map[string]syscall.Signal{
	"TERM": syscall.SIGTERM, "INT": syscall.SIGINT, "KILL": syscall.SIGKILL,
	"STOP": syscall.SIGSTOP, "CONT": syscall.SIGCONT, "HUP": syscall.SIGHUP,
}

// serve prints the summary, then answers commands until stdin ends or ctx
// is done. Commands run one at a time, in order.
func serve(ctx context.Context, e *env, stdin io.Reader, stdout io.Writer) error {
	enc := json.NewEncoder(stdout)
	if err := enc.Encode(e.summary()); err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	// The reader runs ahead (lines is buffered), so stdin's end is seen
	// even while a "wait" command blocks.
	lines := make(chan []byte, 64)
	eof := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			lines <- append([]byte(nil), sc.Bytes()...)
		}
		close(eof)
	}()
	for {
		var line []byte
		select {
		case <-ctx.Done():
			return nil
		case line = <-lines:
		case <-eof:
			select { // lines read before the end still count
			case line = <-lines:
			default:
				return nil
			}
		}
		if len(line) == 0 {
			continue
		}
		answer := e.do(ctx, eof, line)
		if err := enc.Encode(answer); err != nil {
			return fmt.Errorf("write an answer: %w", err)
		}
	}
}

// errorAnswer is a failed command's answer.
type errorAnswer struct {
	Error string `json:"error"`
}

// okAnswer is the answer of a command that has nothing else to say.
type okAnswer struct {
	OK bool `json:"ok"`
}

// exitAnswer is the answer of "wait".
type exitAnswer struct {
	ExitCode int `json:"exit_code"`
}

// do runs one command line and returns its answer.
func (e *env) do(ctx context.Context, eof <-chan struct{}, line []byte) any {
	var c command
	if err := json.Unmarshal(line, &c); err != nil {
		return errorAnswer{fmt.Sprintf("bad command %q: %v", line, err)}
	}
	if c.Node < 0 || c.Node >= len(e.nodes) {
		return errorAnswer{fmt.Sprintf("%s: no node %d (there are %d)", c.Op, c.Node, len(e.nodes))}
	}
	n := e.nodes[c.Node]
	switch c.Op {
	case "signal":
		sig, ok := signals[c.Signal]
		if !ok {
			return errorAnswer{fmt.Sprintf("signal: unknown signal %q (TERM, INT, KILL, STOP, CONT, HUP)", c.Signal)}
		}
		select { // its PID may belong to another process by now
		case <-n.Done():
			return errorAnswer{fmt.Sprintf("signal: node %d has exited", c.Node)}
		default:
		}
		if err := syscall.Kill(n.PID(), sig); err != nil {
			return errorAnswer{fmt.Sprintf("signal %s pid %d: %v", c.Signal, n.PID(), err)}
		}
		return okAnswer{true}
	case "kill":
		if err := closeNode(n); err != nil {
			return errorAnswer{fmt.Sprintf("kill node %d: %v", c.Node, err)}
		}
		return okAnswer{true}
	case "restart":
		if err := closeNode(n); err != nil {
			return errorAnswer{fmt.Sprintf("restart node %d: %v", c.Node, err)}
		}
		if err := n.Relaunch(); err != nil {
			return errorAnswer{fmt.Sprintf("restart node %d: %v", c.Node, err)}
		}
		return e.entry(c.Node)
	case "wait":
		timeout := defaultWait
		if c.Timeout > 0 {
			timeout = time.Duration(c.Timeout * float64(time.Second))
		}
		select {
		case <-n.Done():
			return exitAnswer{n.ExitCode()}
		case <-time.After(timeout):
			return errorAnswer{fmt.Sprintf("wait: node %d still runs after %v", c.Node, timeout)}
		case <-ctx.Done():
			return errorAnswer{"wait: testenv is stopping"}
		case <-eof:
			return errorAnswer{"wait: stdin ended"}
		}
	}
	return errorAnswer{fmt.Sprintf("unknown op %q (signal, kill, restart, wait)", c.Op)}
}
