package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

// gateway is the wsgateway binary running as this test's child process.
type gateway struct {
	pid         int
	client, api string // host:port
}

// startGateway builds the gateway from the module root and runs it in --dev
// on ports the kernel picks, read back from its "listening" log line. At the
// end of the test it kills that process, by its PID, and nothing else.
func startGateway(t *testing.T) gateway {
	t.Helper()
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		t.Fatalf("go env GOMOD: %v %q", err, gomod)
	}
	bin := filepath.Join(t.TempDir(), "wsgateway")
	build := exec.Command("go", "build", "-o", bin, "./service/cmd/wsgateway")
	build.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the gateway: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--dev", "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0",
		"--admin-listen", "127.0.0.1:0", "--drain-delay", "0s", "--drain-window", "0s",
		// Short, so that a hold of a few seconds must answer pings.
		"--ping-interval", "1s")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	addrs := make(chan gateway, 1)
	go func() {
		readListening(stdout, addrs)
		_ = cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill() // our child, by its PID
		<-exited
	})
	select {
	case g := <-addrs:
		g.pid = cmd.Process.Pid
		return g
	case <-exited:
		t.Fatal("gateway exited before listening")
	case <-time.After(15 * time.Second):
		t.Fatal("gateway did not log its listening addresses")
	}
	return gateway{}
}

// readListening reads the gateway's JSON log to its end, reporting the
// addresses of the "listening" line.
func readListening(r io.Reader, addrs chan<- gateway) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var m struct{ Msg, Client, API string }
		if json.Unmarshal(sc.Bytes(), &m) == nil && m.Msg == "listening" {
			addrs <- gateway{client: m.Client, api: m.API}
		}
	}
}

// runBench runs wsbench in-process and decodes its JSON line.
func runBench(t *testing.T, args ...string) map[string]any {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	if n := strings.Count(stdout.String(), "\n"); n != 1 {
		t.Fatalf("stdout has %d lines, want exactly one JSON line: %s", n, stdout.String())
	}
	var m map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &m); err != nil {
		t.Fatalf("result is not JSON: %v: %s", err, stdout.String())
	}
	return m
}

// requireFields checks that m has every field of the result type T that is
// not omitempty.
func requireFields[T any](t *testing.T, m map[string]any) {
	t.Helper()
	rt := reflect.TypeFor[T]()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if _, ok := m[name]; !ok && opts != "omitempty" {
			t.Errorf("result has no %q field: %v", name, m)
		}
	}
}

func TestScenariosAgainstGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the gateway binary")
	}
	g := startGateway(t)
	common := []string{"-url", "ws://" + g.client + "/ws", "-api", "http://" + g.api,
		"-server-pid", strconv.Itoa(g.pid), "-timeout", "60s"}

	t.Run("idle", func(t *testing.T) {
		m := runBench(t, append(common, "-scenario", "idle", "-conns", "50", "-hold", "200ms")...)
		requireFields[idleResult](t, m)
		if m["connected"] != 50.0 || m["errors"] != 0.0 || m["server_connections"] != 50.0 {
			t.Errorf("connected %v, errors %v, server holds %v; want 50, 0, 50: %v",
				m["connected"], m["errors"], m["server_connections"], m)
		}
		if m["server_rss_after_bytes"].(float64) <= 0 {
			t.Errorf("server RSS not read: %v", m)
		}
	})
	t.Run("idle hold answers pings", func(t *testing.T) {
		// Unanswered, the 1 s pings would close every connection after 2 s.
		m := runBench(t, append(common, "-scenario", "idle", "-conns", "20", "-hold", "3s")...)
		if m["connected"] != 20.0 || m["dropped_during_hold"] != 0.0 || m["server_connections"] != 20.0 {
			t.Errorf("connected %v, dropped %v, server holds %v; want 20, 0, 20: %v",
				m["connected"], m["dropped_during_hold"], m["server_connections"], m)
		}
	})
	t.Run("fanout", func(t *testing.T) {
		m := runBench(t, append(common, "-scenario", "fanout", "-conns", "20", "-rate", "50",
			"-warmup", "500ms", "-duration", "2s")...)
		requireFields[fanoutResult](t, m)
		for _, f := range []string{"lost", "duplicated", "unparsed", "publish_errors", "dial_errors"} {
			if m[f] != 0.0 {
				t.Errorf("%s = %v, want 0: %v", f, m[f], m)
			}
		}
		if m["delivered"].(float64) <= 0 || m["delivered"] != m["expected_deliveries"] {
			t.Errorf("delivered %v of %v expected", m["delivered"], m["expected_deliveries"])
		}
		if lat := m["latency_ms"].(map[string]any); lat["count"].(float64) <= 0 || lat["p99"].(float64) <= 0 {
			t.Errorf("no latencies recorded: %v", lat)
		}
	})
}

func TestFlagsAreCheckedTogether(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"-scenario", "burst", "-conns", "0"}, &stdout, &stderr)
	if code != 2 || stdout.Len() != 0 {
		t.Fatalf("exit %d, stdout %q; want 2 and nothing", code, stdout.String())
	}
	for _, want := range []string{"-scenario must be idle or fanout", "-conns must be positive"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("stderr %q lacks %q", stderr.String(), want)
		}
	}
}
