package jmeter

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// The smoke runs the real plan with the JMeter home that `make jmeter`
// assembles (pom.xml): a handful of threads for a few seconds against a
// real --dev node. Pass or fail is read from the results file and
// JMeter's log, never from JMeter's exit code (0 even when samplers fail).

// smokeProps sizes the plan for a few seconds: 2 connect threads, 3
// subscribers, 20 publications/s for 2 s once everyone is subscribed.
func smokeProps(client, api string) map[string]string {
	host, port, _ := net.SplitHostPort(client)
	apiHost, apiPort, _ := net.SplitHostPort(api)
	return map[string]string{
		"host": host, "port": port, "api_host": apiHost, "api_port": apiPort,
		"vus": "2", "subscribers": "3", "ramp": "1", "hold_ms": "200",
		"publish_delay": "2", "duration": "2", "rate": "20", "drain": "1",
		"read_timeout_ms": "1000", "warmup_ms": "500",
	}
}

// smokeRun is a run of plan (empty: wsgateway.jmx) into a fresh directory.
// It fails the test when the JMeter home is missing: a missing tool is a
// failure, not a skip.
func smokeRun(t *testing.T, plan string, props map[string]string) (*Results, error) {
	t.Helper()
	home := DefaultHome(".")
	if _, err := os.Stat(filepath.Join(home, "bin", "ApacheJMeter.jar")); err != nil {
		t.Fatalf("no JMeter home in %s: run `make jmeter` (mvn -B -q package in loadtest/jmeter) first: %v", home, err)
	}
	if plan == "" {
		plan = "wsgateway.jmx"
	}
	abs, err := filepath.Abs(plan)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	res, err := Run{Home: home, Plan: abs, Dir: t.TempDir(), Props: props}.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return res, res.Check(LabelConnectSetup, LabelFanoutSetup, LabelDelivery, LabelPublish)
}

func devNode(t *testing.T) *gatewaytest.Node {
	return gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--dev"}, InProcess: true})
}

func TestSmokePasses(t *testing.T) {
	n := devNode(t)
	res, err := smokeRun(t, "", smokeProps(n.Client, n.API))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{LabelConnectSetup, LabelDelivery} {
		t.Logf("%s: %d samples, p50 %v, p99 %v", l, res.Labels[l].Samples,
			res.Labels[l].Quantile(0.5), res.Labels[l].Quantile(0.99))
	}
}

// TestSmokeFailsWhenTargetDown points the plan at ports nothing listens on.
func TestSmokeFailsWhenTargetDown(t *testing.T) {
	addr := closedAddr(t)
	_, err := smokeRun(t, "", smokeProps(addr, addr))
	if err == nil {
		t.Fatal("the run passed against a port nothing listens on")
	}
	if !strings.Contains(err.Error(), "failed sample connect: ") {
		t.Errorf("the failure does not name the connect samples:\n%v", err)
	}
}

// TestSmokeFailsOnAssertion runs a copy of the plan whose offset assertion
// cannot hold (every in-order offset counts as a duplicate), so the plan's
// own assertion, not a missing sample, must fail the run.
func TestSmokeFailsOnAssertion(t *testing.T) {
	plan, err := os.ReadFile("wsgateway.jmx")
	if err != nil {
		t.Fatal(err)
	}
	const holds, cannot = "off &lt;= last)", "off &lt;= last + 1)"
	if strings.Count(string(plan), holds) != 1 {
		t.Fatalf("the plan's duplicate check %q is not there once; update this test", holds)
	}
	broken := filepath.Join(t.TempDir(), "broken.jmx")
	if err := os.WriteFile(broken, []byte(strings.Replace(string(plan), holds, cannot, 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	n := devNode(t)
	res, err := smokeRun(t, broken, smokeProps(n.Client, n.API))
	if err == nil {
		t.Fatal("the run passed with an assertion that cannot hold")
	}
	if !strings.Contains(err.Error(), "duplicated offset") {
		t.Errorf("the failure does not come from the offset assertion:\n%v", err)
	}
	if res.Duplicated == 0 {
		t.Errorf("Results.Duplicated is 0; the failures were:\n%v", err)
	}
}

// closedAddr is a 127.0.0.1 address that was free a moment ago.
func closedAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}
