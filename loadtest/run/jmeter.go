package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/jmeter"
)

// fanoutChannels is k6's full fanout's CHANNELS (scenarios.go): its RATE is
// per channel, so JMeter's one channel gets RATE/CHANNELS publications/s
// for the same deliveries/s.
const fanoutChannels = 5

// jmeterFanout runs loadtest/jmeter/wsgateway.jmx through HAProxy at the
// load of k6's full fanout (the same subscribers and deliveries/s, on one
// channel), so the report can set JMeter's setup and delivery figures
// beside k6's and wsbench's. Its JTL files and jmeter.log go to
// results/jmeter-fanout/, which the report reads. JMeter exits 0 when
// samples fail: the run is judged by its results (jmeter.Results.Check).
func (r *runner) jmeterFanout(ctx context.Context) {
	const name = "jmeter-fanout"
	if err := r.jmeterHome(ctx); err != nil {
		r.log.Error("jmeter home", "err", err)
		r.record.failed = append(r.record.failed, name)
		return
	}
	host, port, _ := net.SplitHostPort(r.lbWS)
	apiHost, apiPort, _ := net.SplitHostPort(r.lbAPI)
	props := map[string]string{
		"host": host, "port": port, "api_host": apiHost, "api_port": apiPort,
		"token": r.token, "api_key": r.apiKey, "channel": "load:jmeter-" + r.runID,
		"vus": "50", "hold_ms": "1000", "subscribers": fmt.Sprint(r.cfg.fanoutSubs),
		"rate": fmt.Sprint(float64(r.cfg.fanoutRate) / fanoutChannels), "ramp": "10", "publish_delay": "15",
		"duration": "60", "drain": "5",
	}
	p := params{{"VUS", props["vus"]}, {"SUBS", props["subscribers"]}, {"RATE", props["rate"]},
		{"RAMP", "10s"}, {"PUBLISH_DELAY", "15s"}, {"DURATION", "60s"}, {"DRAIN", "5s"}}
	r.log.Info("jmeter", "plan", "wsgateway.jmx", "as", name, "params", p.String())
	stopPoll := r.poll(name, time.Second, 240*time.Second)
	ctx, cancel := context.WithTimeout(ctx, 240*time.Second)
	defer cancel()
	res, err := jmeter.Run{Home: r.cfg.jmeterHome, Plan: filepath.Join(r.cfg.root, "loadtest", "jmeter", "wsgateway.jmx"),
		Dir: filepath.Join(r.cfg.results, name), Props: props}.Execute(ctx)
	stopPoll()
	code := 0
	if err == nil {
		err = res.Check(jmeter.LabelConnectSetup, jmeter.LabelFanoutSetup, jmeter.LabelDelivery, jmeter.LabelPublish)
	}
	if err != nil {
		r.log.Error("jmeter run failed", "err", err)
		r.record.failed = append(r.record.failed, name)
		code = 1
	}
	r.record.add(entry{Name: name, Scenario: "fanout", Tool: "jmeter", File: name, NodesCSV: name + "-nodes.csv",
		Exit: code, Params: p})
}

// jmeterHome builds the pinned JMeter home (loadtest/jmeter/pom.xml) when
// it is missing, as `make jmeter` does.
func (r *runner) jmeterHome(ctx context.Context) error {
	if _, err := os.Stat(filepath.Join(r.cfg.jmeterHome, "bin", "ApacheJMeter.jar")); err == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	defer cancel()
	r.log.Info("jmeter: assembling the JMeter home with Maven (mvn -B -q package in loadtest/jmeter)")
	cmd := exec.CommandContext(ctx, "mvn", "-B", "-q", "package")
	cmd.Dir = filepath.Join(r.cfg.root, "loadtest", "jmeter")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("mvn package in %s: %w\n%s", cmd.Dir, err, out)
	}
	return nil
}
