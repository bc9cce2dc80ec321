package main

import (
	"context"
	"fmt"
	"time"
)

// scenario runs one scenario of the mode at its size (the sizes of the
// bash script this command replaced).
func (r *runner) scenario(ctx context.Context, s string) {
	full := r.cfg.mode == "full"
	switch {
	case s == "connect-storm" && !full:
		r.runK6(ctx, "connect-storm", "connect-storm.js", 90*time.Second,
			params{{"CONNS", "1000"}, {"CONNS_PER_VU", "5"}, {"RAMP", "10s"}, {"HOLD", "10s"}})
	case s == "connect-storm":
		for k, n := range r.cfg.connectPoints {
			name := fmt.Sprintf("connect-storm-%d", n)
			if k == len(r.cfg.connectPoints)-1 {
				name = "connect-storm" // the largest point is the scenario's summary
			}
			r.runK6(ctx, name, "connect-storm.js", 180*time.Second,
				params{{"CONNS", fmt.Sprint(n)}, {"CONNS_PER_VU", "10"}, {"RAMP", "20s"}, {"HOLD", "15s"}})
		}
	case s == "fanout" && !full:
		r.runK6(ctx, "fanout", "fanout.js", 120*time.Second, params{{"SUBS", "200"}, {"CHANNELS", "4"}, {"RATE", "20"},
			{"RAMP", "5s"}, {"SETTLE", "2s"}, {"DURATION", "30s"}, {"DRAIN", "5s"}})
	case s == "fanout":
		r.runK6(ctx, "fanout", "fanout.js", 240*time.Second, params{{"SUBS", fmt.Sprint(r.cfg.fanoutSubs)}, {"CHANNELS", "5"},
			{"RATE", fmt.Sprint(r.cfg.fanoutRate)}, {"RAMP", "10s"}, {"SETTLE", "2s"}, {"DURATION", "60s"}, {"DRAIN", "5s"}})
	case s == "wsbench-fanout":
		r.wsbenchFanout(ctx)
	case s == "jmeter-fanout":
		r.jmeterFanout(ctx)
	case s == "reconnect-storm" && !full:
		r.storm(ctx, "reconnect-storm", "drain", 150*time.Second, params{{"CHANNELS", "5"}, {"RATE", "20"},
			{"RAMP", "5s"}, {"SETTLE", "1s"}, {"DURATION", "35s"}, {"DRAIN", "10s"}})
	case s == "reconnect-storm" || s == "reconnect-storm-kill":
		fault := map[string]string{"reconnect-storm": "drain", "reconnect-storm-kill": "kill"}[s]
		r.storm(ctx, s, fault, 240*time.Second, params{{"CHANNELS", "10"}, {"RATE", "20"},
			{"RAMP", "10s"}, {"SETTLE", "2s"}, {"DURATION", "60s"}, {"DRAIN", "10s"}})
	case s == "soak":
		r.runK6(ctx, "soak", "soak.js", r.cfg.soak.Truncate(time.Second)+120*time.Second, params{{"SUBS", "200"},
			{"CHANNELS", "20"}, {"RATE", "20"}, {"RAMP", "10s"}, {"SETTLE", "2s"}, {"DURATION", durationFlag(r.cfg.soak)}, {"PING_EVERY", "10s"}})
	}
}

// durationFlag writes d as k6 reads it: 3m, 90s.
func durationFlag(d time.Duration) string {
	if d%time.Minute == 0 {
		return fmt.Sprintf("%dm", d/time.Minute)
	}
	return fmt.Sprintf("%ds", d/time.Second)
}
