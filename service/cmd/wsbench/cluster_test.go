package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

func TestClusterPlan(t *testing.T) {
	tests := []struct {
		name  string
		c     clusterConfig
		want  []string
		error string
	}{
		{"every part: each cross point followed by its in-process twin",
			clusterConfig{parts: "periodic latency sweep single inproc", latencyPoints: "500x20", singleRates: "20"},
			[]string{"cross-node 500x20", "in-process 500x20", "cross-node 5000x2", "in-process 5000x2", "cross-node 5000x10", "in-process 5000x10", "one node via redis 5000x20"}, ""},
		{"without inproc", clusterConfig{parts: "latency", latencyPoints: "500x20 1000x10"},
			[]string{"cross-node 500x20", "cross-node 1000x10"}, ""},
		{"points replace the parts", clusterConfig{parts: "latency sweep", points: "cross:5000x16 inproc:5000x16"},
			[]string{"cross-node 5000x16", "in-process 5000x16"}, ""},
		{"unknown topology", clusterConfig{points: "ring:10x1"}, nil, `point "ring:10x1"`},
		{"no rate", clusterConfig{points: "cross:10"}, nil, `point "cross:10"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps, err := tt.c.plan(5000, []float64{2, 10})
			if tt.error != "" {
				if err == nil || !strings.Contains(err.Error(), tt.error) {
					t.Fatalf("err %v, want one naming %s", err, tt.error)
				}
				return
			}
			var got []string
			for _, p := range ps {
				got = append(got, p.label())
			}
			if diff := cmp.Diff(tt.want, got); diff != "" || err != nil {
				t.Errorf("plan (-want +got):\n%s err %v", diff, err)
			}
		})
	}
}

func TestParseCommandStats(t *testing.T) {
	info := "# Commandstats\r\ncmdstat_evalsha:calls=12,usec=1800,usec_per_call=150.00,rejected_calls=0,failed_calls=0\r\n" +
		"cmdstat_client|setinfo:calls=2,usec=3,usec_per_call=1.50,rejected_calls=0,failed_calls=0\r\n"
	calls, usec := map[string]float64{}, map[string]float64{}
	parseCommandStats(info, calls, usec)
	want := map[string]float64{"evalsha": 12, "client|setinfo": 2}
	if diff := cmp.Diff(want, calls); diff != "" || usec["evalsha"] != 1800 {
		t.Errorf("calls (-want +got):\n%s usec %v", diff, usec)
	}
}

// TestSummarize: a window of 2 s in which A published 10 times to 100
// subscribers on B through one EVALSHA each, while B made one heartbeat.
func TestSummarize(t *testing.T) {
	at := time.Unix(1000, 0)
	snap := func(dt time.Duration, evals, pubs, heartbeats, cpu float64) snapshot {
		return snapshot{at: at.Add(dt),
			calls: map[string]float64{"evalsha": evals, "publish": pubs, "info": pubs * 7},
			usec:  map[string]float64{"evalsha": evals * 150},
			ops:   map[string]map[string]float64{"A": {"publish": pubs}, "B": {"heartbeat": heartbeats}},
			opSec: map[string]map[string]float64{"A": {"publish": pubs * 0.0005}, "B": {"heartbeat": heartbeats * 0.001}},
			cpu:   map[string]time.Duration{"A": time.Duration(cpu * float64(time.Second)), "B": 0, "redis": 0}}
	}
	s0, w0, w1, e := snap(0, 0, 0, 0, 0), snap(time.Second, 5, 5, 1, 0.5), snap(3*time.Second, 15, 15, 2, 1.5), snap(4*time.Second, 20, 20, 2, 2)
	got := pointSummary{Label: "cross-node 100x5", SubscriberNode: "B", PublisherNode: "A", Subscribers: 100}
	summarize(&got, []string{"A", "B"}, w0, w1, s0, e)
	want := pointSummary{Label: "cross-node 100x5", SubscriberNode: "B", PublisherNode: "A", Subscribers: 100,
		WindowSeconds: 2, Publications: 10, Deliveries: 1000, windowDetail: &windowDetail{
			EvalshaPerPub: 1, EvalshaUsec: 150, PublishTripsPerPub: 1, OtherTrips: 1, SubTrips: 1, SubTripsPerDeliv: 0.001,
			CallsWindow:   map[string]float64{"evalsha": 10, "publish": 10},
			CallsPerPub:   map[string]float64{"evalsha": 1, "publish": 1},
			CallsPerDeliv: map[string]float64{"evalsha": 0.01, "publish": 0.01},
			TripsWindow:   map[string]map[string]float64{"A": {"publish": 10}, "B": {"heartbeat": 1}},
			TripMsMean:    map[string]map[string]float64{"A": {"publish": 0.5}, "B": {"heartbeat": 1}},
			CPU:           map[string]float64{"A": 0.5, "B": 0, "redis": 0},
			CallsRun:      map[string]float64{"evalsha": 20, "publish": 20},
		}}
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(pointSummary{})); diff != "" {
		t.Errorf("summary (-want +got):\n%s", diff)
	}
	empty := pointSummary{Subscribers: 100}
	summarize(&empty, []string{"A", "B"}, w0, w0, s0, e)
	if empty.Error != "no publication in the window" || empty.windowDetail != nil {
		t.Errorf("a window without publications: %+v", empty)
	}
}

// TestClusterStartsRedisAndNodes runs one small cross-node point: wsbench
// starts a redis-server and two nodes itself, and after the run's line
// prints the summary of what Redis counted.
func TestClusterStartsRedisAndNodes(t *testing.T) {
	gatewaytest.Binary(t, gatewaytest.BuildOptions{}) // skips under -short
	var stdout, stderr bytes.Buffer
	args := []string{"-suite", "cluster", "-parts", "", "-points", "cross:20x20", "-warmup", "300ms", "-duration", "1500ms",
		"-quiet-load", "1000", "-timeout", "60s"}
	if code := run(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("run %v: exit %d\nstdout: %s\nstderr: %s", args, code, stdout.String(), stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want the run's and its summary: %s", len(lines), stdout.String())
	}
	var run fanoutResult
	var sum map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &run); err != nil || run.Lost != 0 || run.Delivered == 0 {
		t.Errorf("run line: %v, lost %d, delivered %d: %s", err, run.Lost, run.Delivered, lines[0])
	}
	if err := json.Unmarshal([]byte(lines[1]), &sum); err != nil {
		t.Fatalf("summary is not JSON: %v: %s", err, lines[1])
	}
	if sum["commandstats"] != "cross-node 20x20" || sum["publications"].(float64) <= 0 ||
		sum["evalsha_per_publication"] != 1.0 || sum["subscriber_node_round_trips_per_delivery"] != 0.0 {
		t.Errorf("summary: want publications through one EVALSHA each and no round trip per delivery: %s", lines[1])
	}
}
