package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// wsbenchFanout runs the heavy fan-out points, one wsbench run per rate,
// all through HAProxy: k6's CPU per message would measure k6, not the
// gateway. Each point's JSON line goes to wsbench-fanout.jsonl.
func (r *runner) wsbenchFanout(ctx context.Context) {
	conns, rates := r.cfg.wsbenchConns, r.cfg.wsbenchRates
	out, err := os.Create(filepath.Join(r.cfg.results, "wsbench-fanout.jsonl"))
	if err != nil {
		r.log.Error("wsbench results", "err", err)
		r.record.failed = append(r.record.failed, "wsbench-fanout")
		return
	}
	defer out.Close()
	errOut, err := os.OpenFile(filepath.Join(r.logDir, "wsbench.stderr"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		r.log.Error("wsbench log", "err", err)
		return
	}
	defer errOut.Close()
	stopPoll := r.poll("wsbench-fanout", time.Second, 900*time.Second)
	code := 0
	for _, rate := range strings.Fields(rates) {
		if ctx.Err() != nil {
			break
		}
		r.log.Info("wsbench fanout", "subscribers", conns, "rate", rate)
		line, err := r.wsbenchPoint(ctx, conns, rate, errOut)
		if err != nil {
			r.log.Error("wsbench point failed (see logs/wsbench.stderr)", "rate", rate, "err", err)
			code = 1
		}
		_, _ = out.Write(line)
		if i := bytes.LastIndexByte(bytes.TrimRight(line, "\n"), '\n'); len(line) > 0 {
			fmt.Fprint(os.Stderr, string(line[i+1:]))
		}
		time.Sleep(2 * time.Second)
	}
	stopPoll()
	r.record.add(entry{Name: "wsbench-fanout", Scenario: "fanout", Tool: "wsbench", File: "wsbench-fanout.jsonl", Exit: code,
		Params: params{{"CONNS", fmt.Sprint(conns)}, {"RATES", rates}, {"DURATION", "10s"}, {"WARMUP", "2s"}}})
}

// wsbenchPoint runs wsbench once, bounded by 180 s, and returns its stdout.
func (r *runner) wsbenchPoint(ctx context.Context, conns int, rate string, errOut *os.File) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 180*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, r.cfg.wsbench, "-scenario", "fanout", "-url", "ws://"+r.lbWS+"/ws", "-api", "http://"+r.lbAPI,
		"-api-key", r.apiKey, "-token", r.token, "-conns", fmt.Sprint(conns), "-rate", rate, "-duration", "10s", "-warmup", "2s",
		"-channel", "load:wsbench-"+r.runID+"-"+rate, "-timeout", "150s")
	cmd.WaitDelay = killAfter
	cmd.Stderr = errOut
	return cmd.Output()
}
