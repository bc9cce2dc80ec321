package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNodeSeriesCSV reads one storm, two nodes a and b with b drained, as
// loadtest/run writes it, and as files from before the subscriptions
// column was added: a node that did not answer has empty fields, and a line
// cut short when the sampler stopped is skipped.
func TestNodeSeriesCSV(t *testing.T) {
	cases := []struct {
		name, data          string
		subs                float64 // the subscriptions each sample reads
		skipped, unanswered int
	}{
		{"as sampled today", "unix_s,node,connections,subscriptions,draining\n" +
			"1.000,a,10,10,0\n1.000,b,10,10,0\n1.500,a,20,20,0\n1.500,b,,,\n1.9", 1, 1, 1},
		{"without subscriptions", "unix_s,node,connections\n1.000,b,10\n1.000,a,10\n1.500,a,20\n", 0, 0, 0},
	}
	for _, tc := range cases {
		s, err := parseNodes("storm-nodes.csv", []byte(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if s.Run != "storm" {
			t.Errorf("%s: run %q, want storm", tc.name, s.Run)
		}
		want := []nodeSample{
			{TMs: 1000, Node: "a", Connections: 10, Subscriptions: 10 * tc.subs},
			{TMs: 1000, Node: "b", Connections: 10, Subscriptions: 10 * tc.subs},
			{TMs: 1500, Node: "a", Connections: 20, Subscriptions: 20 * tc.subs},
		}
		if diff := cmp.Diff(want, s.Samples); diff != "" {
			t.Errorf("%s samples (-want +got):\n%s", tc.name, diff)
		}
		if s.Skipped != tc.skipped || s.Unanswered != tc.unanswered {
			t.Errorf("%s: %d skipped, %d unanswered; want %d, %d", tc.name, s.Skipped, s.Unanswered,
				tc.skipped, tc.unanswered)
		}
		if got := s.busiestShare(); got != 20.0/30 {
			t.Errorf("%s: busiest share %v, want 2/3", tc.name, got)
		}
	}
}

func TestNodeSeriesErrors(t *testing.T) {
	for name, data := range map[string]string{
		"a-nodes.csv": "",                          // no header
		"b-nodes.csv": "unix_s,connections\n1,2\n", // no node column
	} {
		if _, err := parseNodes(name, []byte(data)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

// TestK6WithoutBlock: a plain k6 summary (no "wsgateway" block) is named
// after its file, and its scenario read from that name.
func TestK6WithoutBlock(t *testing.T) {
	r, err := parseK6("connect-storm-3000.json", []byte(`{"metrics":{
		"wsg_setup_time":{"type":"trend","values":{"count":3000,"med":2,"p(95)":4,"p(99)":9,"max":12},
			"thresholds":{"p(99)<50":{"ok":true}}},
		"wsg_held":{"type":"counter","values":{"count":3000,"rate":100}}}}`))
	if err != nil {
		t.Fatal(err)
	}
	want := &loadRun{Tool: "k6", Source: "connect-storm-3000.json", Name: "connect-storm-3000",
		Scenario: "connect-storm", Conns: 3000, Setup: &dist{Count: 3000, P50: 2, P95: 4, P99: 9, Max: 12},
		Thresholds: 1}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
