package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// victim is the node a reconnect storm drains or kills: lt-node2.
const victim = 1

// storm runs the reconnect storm with the victim drained (SIGTERM) or
// killed (SIGKILL) once every client is connected, then starts it again.
func (r *runner) storm(ctx context.Context, name, fault string, limit time.Duration, p params) {
	clients := r.cfg.stormClients
	p = append(params{{"CLIENTS", strconv.Itoa(clients)}}, p...)
	r.log.Info("k6 reconnect-storm.js", "as", name, "victim", nodeName(victim), "fault", fault, "params", p.String())
	stopPoll := r.poll(name, 500*time.Millisecond, limit)
	cmd, cancel := r.k6Cmd(ctx, name, "reconnect-storm.js", limit, append(params{{"FAULT", fault}}, p...))
	defer cancel()
	status := make(chan int, 1)
	go func() { status <- r.runLogged(cmd, name, nil) }()
	f := r.inject(fault, clients, status)
	code := <-status
	stopPoll()
	if b, err := os.ReadFile(filepath.Join(r.logDir, name+".log")); err == nil {
		_, _ = os.Stdout.Write(b)
	}
	r.k6Failed(name, code)
	if fault == "drain" && f.exit != nil && *f.exit != 0 {
		fmt.Fprintf(os.Stderr, "loadtest: %s: the drained node exited %d, not 0\n", name, *f.exit)
		code = 1
	}
	r.record.add(entry{Name: name, Scenario: "reconnect-storm", Tool: "k6", File: name + ".json", Exit: code, Params: p,
		Fault: fault, FaultNode: nodeName(victim), FaultAt: f.at, FaultExit: f.exit, DrainWindow: r.cfg.drainWindow})
	if f.exit == nil {
		r.log.Warn("k6 ended before the fault; the victim was not touched", "run", name)
		if code == 0 {
			r.record.failed = append(r.record.failed, name+" (no fault injected)")
		}
		return
	}
	if err := r.nodes[victim].Relaunch(); err != nil {
		r.log.Error("restart", "node", nodeName(victim), "err", err)
		r.record.failed = append(r.record.failed, name+" (restart)")
		return
	}
	r.log.Info("restarted", "node", nodeName(victim), "pid", r.nodes[victim].PID())
	time.Sleep(2 * time.Second) // HAProxy's rise: 2 checks 500 ms apart
}

// faultDone is what inject did: when, and how the victim exited; nil
// fields when k6 ended first.
type faultDone struct {
	at   *float64
	exit *int
}

// inject waits (at most 60 s) until every client is connected, 5 s more,
// then sends the fault to the victim and waits (at most 60 s) for it to
// exit. status is k6's: when it ends first, nothing is injected.
func (r *runner) inject(fault string, clients int, status chan int) faultDone {
	n := 0
	ended := func() bool {
		select {
		case c := <-status:
			status <- c
			return true
		default:
			return false
		}
	}
	for i := 0; i < 120 && !ended(); i++ {
		if n = r.connectionsTotal(); n >= clients {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	r.log.Info("clients connected", "connected", n, "of", clients)
	if ended() {
		return faultDone{}
	}
	time.Sleep(5 * time.Second)
	if ended() {
		return faultDone{}
	}
	node := r.nodes[victim]
	sig := map[string]syscall.Signal{"drain": syscall.SIGTERM, "kill": syscall.SIGKILL}[fault]
	at := float64(time.Now().UnixMilli()) / 1000
	r.log.Info("fault", "signal", sig.String(), "node", nodeName(victim), "pid", node.PID(), "drain_window", r.cfg.drainWindow)
	if err := syscall.Kill(node.PID(), sig); err != nil {
		r.log.Error("fault", "err", err)
	}
	select {
	case <-node.Done():
	case <-time.After(60 * time.Second):
		r.log.Warn("victim still running 60 s after the fault; killing it", "node", nodeName(victim))
		_ = node.Close()
	}
	exit := node.ExitCode()
	if exit < 0 { // ended by a signal, which here is only SIGKILL: 137 as a shell says it
		exit = 128 + int(syscall.SIGKILL)
	}
	r.log.Info("victim exited", "node", nodeName(victim), "exit", exit)
	return faultDone{at: &at, exit: &exit}
}
