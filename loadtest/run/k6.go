package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// killAfter is how long a k6 past its limit has between SIGTERM and SIGKILL.
const killAfter = 15 * time.Second

// k6Cmd is a k6 run of script as name with p, bounded by limit: SIGTERM at
// the limit, SIGKILL killAfter later. Its output goes to stdout and
// stderr; in full mode it exports its HTML dashboard to the results.
func (r *runner) k6Cmd(ctx context.Context, name, script string, limit time.Duration, p params) (*exec.Cmd, context.CancelFunc) {
	args := []string{"run", "--quiet", "--no-color"}
	env := params{{"WS_URL", "ws://" + r.lbWS + "/ws"}, {"API_URL", "http://" + r.lbAPI}, {"API_KEY", r.apiKey},
		{"TOKEN", r.token}, {"SUMMARY_DIR", r.cfg.results}, {"SUMMARY_NAME", name}, {"RUN_ID", r.runID + "-" + name}}
	for _, kv := range append(env, p...) {
		args = append(args, "-e", kv[0]+"="+kv[1])
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	cmd := exec.CommandContext(ctx, r.cfg.k6, append(args, filepath.Join(r.cfg.root, "loadtest", "k6", script))...)
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = killAfter
	cmd.Env = append(os.Environ(), "K6_NO_USAGE_REPORT=true")
	if r.cfg.mode == "full" {
		cmd.Env = append(cmd.Env, "K6_WEB_DASHBOARD=true", "K6_WEB_DASHBOARD_PORT=-1",
			"K6_WEB_DASHBOARD_EXPORT="+filepath.Join(r.cfg.results, name+".html"))
	}
	return cmd, cancel
}

// runK6 runs one k6 scenario in the foreground while the nodes are
// sampled; its summary goes to the terminal and to the results.
func (r *runner) runK6(ctx context.Context, name, script string, limit time.Duration, p params) {
	r.log.Info("k6", "script", script, "as", name, "params", p.String())
	stopPoll := r.poll(name, time.Second, limit)
	cmd, cancel := r.k6Cmd(ctx, name, script, limit, p)
	defer cancel()
	code := r.runLogged(cmd, name, os.Stdout)
	stopPoll()
	r.k6Failed(name, code)
	r.record.add(entry{Name: name, Scenario: strings.TrimSuffix(script, ".js"), Tool: "k6", File: name + ".json", Exit: code, Params: p})
}

// runLogged runs cmd with its stdout in logs/NAME.log (and in also, when
// not nil) and its stderr in logs/NAME.stderr; it returns the exit status
// as a shell reports it (128+signal for a killed child).
func (r *runner) runLogged(cmd *exec.Cmd, name string, also io.Writer) int {
	out, err := os.Create(filepath.Join(r.logDir, name+".log"))
	if err != nil {
		r.log.Error("log file", "err", err)
		return 1
	}
	defer out.Close()
	errOut, err := os.Create(filepath.Join(r.logDir, name+".stderr"))
	if err != nil {
		r.log.Error("log file", "err", err)
		return 1
	}
	defer errOut.Close()
	cmd.Stdout, cmd.Stderr = out, errOut
	if also != nil {
		cmd.Stdout = io.MultiWriter(out, also)
	}
	return exitStatus(cmd.Run())
}

// exitStatus is err from exec.Cmd.Run as a shell's $?.
func exitStatus(err error) int {
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	default:
		return 127
	}
}

// k6Failed says why a k6 run failed, with its last messages.
func (r *runner) k6Failed(name string, code int) {
	if code == 0 {
		return
	}
	why := "error"
	if code == 99 {
		why = "thresholds failed"
	}
	b, _ := os.ReadFile(filepath.Join(r.logDir, name+".stderr"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	fmt.Fprintf(os.Stderr, "loadtest: %s: k6 exited %d (%s); its last messages:\n%s\n", name, code, why,
		strings.Join(lines[max(0, len(lines)-15):], "\n"))
}
