package main

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds this command once per test run: signal and exit-code tests
// run the real program, not run() in-process.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "wsgateway-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "wsgateway")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("build: %v", buildErr)
	}
	return binPath
}

// proc is the gateway binary running as a child process.
type proc struct {
	cmd  *exec.Cmd
	gw   *gw
	exit chan error
}

func startBinary(t *testing.T, args ...string) *proc {
	t.Helper()
	base := []string{"--dev", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"}
	cmd := exec.Command(binary(t), append(base, args...)...)
	stdout, _ := cmd.StdoutPipe()
	p := &proc{cmd: cmd, gw: &gw{t: t, logs: &syncBuffer{}}, exit: make(chan error, 1)}
	cmd.Stderr = p.gw.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // our own child, by PID; a no-op once it exited
		<-p.exit
	})
	addrs := make(chan map[string]string, 1)
	go func() {
		p.gw.readLogs(bufio.NewReader(stdout), addrs)
		p.exit <- cmd.Wait()
	}()
	select {
	case a := <-addrs:
		p.gw.client, p.gw.api, p.gw.admin = a["client"], a["api"], a["admin"]
	case <-time.After(10 * time.Second):
		t.Fatalf("binary did not start: %s", p.gw.logs.String())
	}
	return p
}

func (p *proc) signal(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
}

// wait returns the exit code, failing the test after timeout.
func (p *proc) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case err := <-p.exit:
		p.exit <- err // for Cleanup
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(timeout):
		t.Fatalf("process still running after %v", timeout)
		return -1
	}
}

func TestDrain(t *testing.T) {
	const delay, window = time.Second, 2 * time.Second
	p := startBinary(t, "--drain-delay", delay.String(), "--drain-window", window.String())
	admin := "http://" + p.gw.admin
	if code, _ := httpGet(t, admin+"/readyz"); code != 200 {
		t.Fatalf("readyz before drain: %d", code)
	}
	const n = 20
	type closed struct {
		code int
		at   time.Time
	}
	results := make(chan closed, n)
	for i := 0; i < n; i++ {
		w := connected(t, p.gw, "")
		go func() {
			code := w.closedNoFail(delay + window + 10*time.Second)
			results <- closed{code, time.Now()}
		}()
	}
	signalled := time.Now()
	p.signal(t)
	if code := waitReadyz(t, admin, 503); code != 503 {
		t.Fatalf("readyz after SIGTERM: %d, want 503", code)
	}
	var first, last time.Time
	for i := 0; i < n; i++ {
		r := <-results
		if r.code != 1012 {
			t.Fatalf("connection closed with %d, want 1012", r.code)
		}
		if r.at.Sub(signalled) < delay {
			t.Fatalf("a connection closed %v after SIGTERM, before the drain delay %v", r.at.Sub(signalled), delay)
		}
		if first.IsZero() || r.at.Before(first) {
			first = r.at
		}
		if r.at.After(last) {
			last = r.at
		}
	}
	// Spread, not a burst: the closes cover most of the window.
	if spread := last.Sub(first); spread < window/2 {
		t.Fatalf("closes spread over %v, want most of the %v window", spread, window)
	}
	if code := p.wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after a clean drain, want 0; logs:\n%s", code, p.gw.logs.String())
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	p := startBinary(t, "--drain-delay", "1m", "--drain-window", "1m")
	connected(t, p.gw, "")
	p.signal(t)
	waitReadyz(t, "http://"+p.gw.admin, 503)
	p.signal(t)
	if code := p.wait(t, 10*time.Second); code != 1 {
		t.Fatalf("exit code %d after a second signal, want 1", code)
	}
}

func TestStartupErrorsExitOneWithOneLine(t *testing.T) {
	tests := []struct {
		name string
		args []string
	}{
		{"no auth configured", []string{}},
		{"bad flag", []string{"--dev", "--history-size", "x"}},
		{"unreadable key", []string{"--jwt-public-key", "/nonexistent/key.pem"}},
		{"port in use", nil}, // filled below
	}
	busy := startBinary(t) // holds three ports
	tests[3].args = []string{"--dev", "--listen", busy.gw.client}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(binary(t), tc.args...)
			var stderr syncBuffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 1 {
				t.Fatalf("exit: %v, want code 1", err)
			}
			if lines := nonEmptyLines(stderr.String()); len(lines) != 1 {
				t.Fatalf("stderr has %d lines, want 1: %q", len(lines), stderr.String())
			}
		})
	}
}

func nonEmptyLines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

// waitReadyz polls /readyz until it answers want (bounded) and returns the
// last status seen.
func waitReadyz(t *testing.T, admin string, want int) int {
	t.Helper()
	var code int
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if code, _ = httpGet(t, admin+"/readyz"); code == want {
			break
		}
	}
	return code
}
