package k8s

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// runtimeVariables are the variables besides WSG_* that something in the gateway reads: the Go
// runtime's, and the OpenTelemetry SDK's (any OTEL_*).
var runtimeVariables = []string{"GOMEMLIMIT", "GOGC", "GOMAXPROCS", "GODEBUG"}

// TestConfigMatchesBinary: every variable the gateway container gets is one the real binary
// reads (a WSG_* flag that its --help lists, or a runtime or OpenTelemetry variable), and the
// binary starts with each overlay's environment: it parses and validates every value. Broken
// copies of the environment are shown failing too.
func TestConfigMatchesBinary(t *testing.T) {
	bin := gatewaytest.Binary(t, gatewaytest.BuildOptions{Race: raceEnabled})
	flags := flagVariables(t, bin)
	for _, overlay := range overlayNames(t) {
		t.Run(overlay, func(t *testing.T) {
			b := loadBundle(t, overlay)
			env, _, err := b.gatewayEnv()
			if err != nil {
				t.Fatal(err)
			}
			env = withHooksFile(t, b, env)
			if err := errors.Join(checkVariableNames(env, flags), startGateway(bin, env)); err != nil {
				t.Error(err)
			}
		})
	}
	broken := []struct{ name, key, value string }{
		{"a variable that is no flag", "WSG_DRAIN_WINDOWS", "30s"},
		{"a variable nothing reads", "REDIS_URL", "redis://redis:6379"},
		{"a duration without a unit", "WSG_DRAIN_DELAY", "5"},
		{"a log level the binary does not know", "WSG_LOG_LEVEL", "verbose"},
		{"a malformed Redis URL", "WSG_REDIS_URL", "redis-sentinel://"},
	}
	for _, c := range broken {
		t.Run("broken/"+c.name, func(t *testing.T) {
			env, _, err := loadBundle(t, "prod").gatewayEnv()
			if err != nil {
				t.Fatal(err)
			}
			env = maps.Clone(env)
			env[c.key] = c.value
			err = errors.Join(checkVariableNames(env, flags), startGateway(bin, env))
			if err == nil {
				t.Fatalf("%s=%s accepted", c.key, c.value)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
	t.Run("broken/a hooks file with an unknown connect mode", func(t *testing.T) {
		b := loadBundle(t, hooksOverlay)
		editHooks(t, b, "mode: hook", "mode: cookie")
		env, _, err := b.gatewayEnv()
		if err != nil {
			t.Fatal(err)
		}
		if err := startGateway(bin, withHooksFile(t, b, env)); err == nil {
			t.Fatal("mode: cookie accepted")
		} else {
			t.Logf("rejected as expected: %v", err)
		}
	})
}

// withHooksFile writes the hooks file the pods mount (from its ConfigMap) to a temporary file
// and points WSG_HOOKS_CONFIG at it, so that the binary reads and validates the file the pods
// would read.
func withHooksFile(t *testing.T, b *bundle, env map[string]string) map[string]string {
	t.Helper()
	file, err := b.hooksPath()
	if err != nil || file == "" {
		return env
	}
	cm, key, err := b.mountedConfigMap(file)
	if err != nil {
		t.Fatal(err)
	}
	local := filepath.Join(t.TempDir(), key)
	if err := os.WriteFile(local, []byte(cm.Data[key]), 0o600); err != nil {
		t.Fatal(err)
	}
	env = maps.Clone(env)
	env[hooksVariable] = local
	return env
}

// flagVariables asks the binary's --help for the variable of every flag.
func flagVariables(t *testing.T, bin string) []string {
	t.Helper()
	out, err := exec.Command(bin, "--help").Output()
	if err != nil {
		t.Fatalf("wsgateway --help: %v", err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`\(env (WSG_[A-Z0-9_]+)\)`).FindAllSubmatch(out, -1) {
		names = append(names, string(m[1]))
	}
	if len(names) < 20 {
		t.Fatalf("wsgateway --help lists %d variables; has its format changed?\n%s", len(names), out)
	}
	return names
}

// checkVariableNames: every variable is one the binary reads.
func checkVariableNames(env map[string]string, flags []string) error {
	var errs []error
	for _, k := range slices.Sorted(maps.Keys(env)) {
		known := slices.Contains(flags, k) || slices.Contains(runtimeVariables, k) || strings.HasPrefix(k, "OTEL_")
		if !known {
			errs = append(errs, fmt.Errorf("%s is read by nothing in the gateway (wsgateway --help lists its WSG_* variables)", k))
		}
	}
	return errors.Join(errs...)
}

// startGateway runs the binary with env (and only env) until it logs "starting", which it does
// once every setting has been parsed and validated; a refused setting exits 1 with one line on
// stderr. It is a check of the configuration, not a node for a test to use, so it does not wait
// for readiness as gatewaytest.Start does: the servers the overlays name are not running here. The listeners move to free loopback ports (flags win over the environment), and the
// servers it would connect to move to the loopback address, so nothing leaves the machine.
func startGateway(bin string, env map[string]string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:0", "--api-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+onLoopback(k, v))
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	started := false
	for lines := bufio.NewScanner(stdout); !started && lines.Scan(); {
		var entry struct{ Msg string }
		started = json.Unmarshal(lines.Bytes(), &entry) == nil && entry.Msg == "starting"
	}
	_ = cmd.Process.Kill()
	waitErr := cmd.Wait()
	if !started {
		return fmt.Errorf("the gateway refused the environment (%v): %s", waitErr, strings.TrimSpace(stderr.String()))
	}
	return nil
}

// serverHost matches a host name before its port in a Redis URL's server list or an endpoint.
var serverHost = regexp.MustCompile(`[A-Za-z0-9.-]+:([0-9]+)`)

// onLoopback moves the servers named by the Redis URL and the OTLP endpoints to 127.0.0.1,
// keeping everything else (scheme, ports, master name) for the binary to check.
func onLoopback(key, value string) string {
	if key != "WSG_REDIS_URL" && !strings.HasPrefix(key, "OTEL_EXPORTER_OTLP_") {
		return value
	}
	return serverHost.ReplaceAllString(value, "127.0.0.1:$1")
}
