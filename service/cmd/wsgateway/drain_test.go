package main

import (
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

func TestDrain(t *testing.T) {
	const delay, window = time.Second, 2 * time.Second
	p := startBinary(t, "--drain-delay", delay.String(), "--drain-window", window.String())
	if code, _ := httpGet(t, p.AdminURL()+"/readyz"); code != 200 {
		t.Fatalf("readyz before drain: %d", code)
	}
	const n = 20
	type closed struct {
		code int
		at   time.Time
	}
	results := make(chan closed, n)
	for i := 0; i < n; i++ {
		w := connected(t, p, "")
		go func() {
			code := w.closedNoFail(delay + window + 10*time.Second)
			results <- closed{code, time.Now()}
		}()
	}
	signalled := time.Now()
	p.Signal(t)
	waitReadyz(t, p, 503)
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
	if code := p.Wait(t, 15*time.Second); code != 0 {
		t.Fatalf("exit code %d after a clean drain, want 0; logs:\n%s", code, p.Logs.String())
	}
}

func TestSecondSignalExitsAtOnce(t *testing.T) {
	p := startBinary(t, "--drain-delay", "1m", "--drain-window", "1m")
	connected(t, p, "")
	p.Signal(t)
	waitReadyz(t, p, 503)
	p.Signal(t)
	if code := p.Wait(t, 10*time.Second); code != 1 {
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
	tests[3].args = []string{"--dev", "--listen", busy.Client}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(gatewaytest.Binary(t, gatewaytest.BuildOptions{}), tc.args...)
			var stderr gatewaytest.Buffer
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

// waitReadyz waits until g's /readyz answers want.
func waitReadyz(t *testing.T, g *gw, want int) {
	t.Helper()
	var code int
	within(t, 5*time.Second, func() bool { code, _ = httpGet(t, g.AdminURL()+"/readyz"); return code == want },
		func() string { return fmt.Sprintf("/readyz answers %d, want %d", code, want) })
}
