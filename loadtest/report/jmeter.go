package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"time"

	"github.com/wsgateway/wsgateway/loadtest/jmeter"
)

// jmeterDir is the prefix of the result folders of JMeter runs (loadtest/run
// writes jmeter-fanout/): each holds the plan's JTL files and jmeter.log.
const jmeterDir = "jmeter-"

// parseJMeter reads one JMeter run of loadtest/jmeter/wsgateway.jmx: setup
// is the connect thread group's "connect: setup" (dial, upgrade, connect
// reply), delivery the subscribers' "fanout: delivery" Latency column
// (publish stamp to receipt), and lost and duplicated offsets what the
// plan's offset assertion counted. A failed sample or a log error is a
// problem of the run.
func parseJMeter(dir, name string) (*loadRun, error) {
	res, err := jmeter.Read(filepath.Join(dir, name))
	if err != nil {
		return nil, err
	}
	r := &loadRun{Tool: "jmeter", Source: name, Name: name, Scenario: "fanout",
		Setup: jmeterDist(res.Labels[jmeter.LabelConnectSetup]), Delivery: jmeterDist(res.Labels[jmeter.LabelDelivery]),
		OffsetsChecked: true, Lost: res.Lost, Duplicated: res.Duplicated}
	if subs := res.Labels[jmeter.LabelFanoutSetup]; subs != nil {
		r.Conns = len(subs.Millis)
	}
	if err := res.Check(jmeter.LabelConnectSetup, jmeter.LabelDelivery); err != nil {
		r.Problems = append(r.Problems, fmt.Sprintf("%d failed samples, %d log errors (%s/%s)",
			len(res.Failures), len(res.LogErrors), name, jmeter.LogFile))
	}
	if pub := res.Labels[jmeter.LabelPublish]; pub != nil && r.Conns > 0 {
		r.DeliveriesPerS, r.DurationS = jmeterRate(pub, r.Conns)
	}
	return r, nil
}

// jmeterRate is deliveries/s: every successful publication reaches every
// subscriber, over the publishing window (first to last publish).
func jmeterRate(pub *jmeter.Label, subs int) (perS, windowS float64) {
	if len(pub.Stamps) < 2 {
		return 0, 0
	}
	first, last := slices.Min(pub.Stamps), slices.Max(pub.Stamps)
	windowS = float64(last-first) / 1000
	if windowS <= 0 {
		return 0, 0
	}
	return float64(len(pub.Millis)*subs) / windowS, math.Round(windowS)
}

func jmeterDist(l *jmeter.Label) *dist {
	if l == nil || len(l.Millis) == 0 {
		return nil
	}
	ms := func(q float64) float64 { return float64(l.Quantile(q)) / float64(time.Millisecond) }
	return &dist{Count: float64(len(l.Millis)), P50: ms(0.5), P95: ms(0.95), P99: ms(0.99), Max: ms(1)}
}

// compareTools is the report's line on how the tools' figures compare on
// the same load: k6's fanout run and JMeter's, which loadtest/run sizes
// alike (subscribers and publications/s, through the same HAProxy).
func compareTools(runs []*loadRun) string {
	var k6, jm *loadRun
	for _, r := range runs {
		switch {
		case r.Tool == "k6" && r.Scenario == "fanout" && r.Delivery != nil:
			k6 = r
		case r.Tool == "jmeter" && r.Delivery != nil:
			jm = r
		}
	}
	if k6 == nil || jm == nil {
		return ""
	}
	p99 := func(d *dist) string {
		if d == nil {
			return "—"
		}
		return msNum(d.P99) + " ms"
	}
	load := "Same load, two tools"
	if k6.Conns != jm.Conns || math.Abs(k6.DeliveriesPerS-jm.DeliveriesPerS) > 0.2*k6.DeliveriesPerS {
		load = "Different loads, so compare with care"
	}
	return fmt.Sprintf("%s: k6's %s (%s subscribers, %s deliveries/s) measured delivery p99 %s "+
		"and setup p99 %s (its subscribers); JMeter's %s (%s subscribers, %s deliveries/s) %s and %s (its connect threads, "+
		"dialling while the fan-out runs), lost %d and duplicated %d "+
		"against k6's %d and %d. Their figures differ by what each times: k6 stamps in JavaScript on its event "+
		"loop, JMeter per frame read by one thread per connection (a frame may carry several pushes; the "+
		"oldest counts), so JMeter's delivery figures include its own thread scheduling.",
		load, k6.Name, thousands(float64(k6.Conns)), thousands(k6.DeliveriesPerS), p99(k6.Delivery), p99(k6.Setup),
		jm.Name, thousands(float64(jm.Conns)), thousands(jm.DeliveriesPerS), p99(jm.Delivery), p99(jm.Setup),
		jm.Lost, jm.Duplicated, k6.Lost, k6.Duplicated)
}
