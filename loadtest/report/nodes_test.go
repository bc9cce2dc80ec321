package main

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestNodeSeriesFormats reads one storm, two nodes a and b with b drained,
// in each format doc.go describes; all must give the same series.
func TestNodeSeriesFormats(t *testing.T) {
	want := []nodeSample{
		{TMs: 1000, Node: "a", Connections: 10, Subscriptions: 10},
		{TMs: 1000, Node: "b", Connections: 10, Subscriptions: 10},
		{TMs: 1500, Node: "a", Connections: 20, Subscriptions: 20},
	}
	cases := []struct {
		file, data                  string
		events, skipped, unanswered int
	}{
		{"storm-nodes.csv", "unix_s,node,connections,subscriptions,draining\n" +
			"1.000,a,10,10,0\n1.000,b,10,10,0\n1.500,a,20,20,0\n1.500,b,,,\n1.9", 0, 1, 1},
		{"storm-nodes.json", `[{"t_ms":1000,"node":"a","connections":10,"subscriptions":10},
			{"t_ms":1000,"node":"b","connections":10,"subscriptions":10},
			{"t_ms":1200,"event":"drain b"},
			{"t_ms":1500,"node":"a","connections":20,"subscriptions":20}]`, 1, 0, 0},
		{"storm-nodes.json", `{"t_ms":1000,"nodes":[{"node":"b","connections":10,"subscriptions":10},{"node":"a","connections":10,"subscriptions":10}]}
{"t_ms":1200,"event":"drain b"}
{"t_ms":1500,"nodes":[{"node":"a","connections":20,"subscriptions":20}]}
{"t_ms":2000,"no`, 1, 1, 0},
	}
	for _, tc := range cases {
		s, err := parseNodes(tc.file, []byte(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.file, err)
		}
		if s.Run != "storm" {
			t.Errorf("%s: run %q, want storm", tc.file, s.Run)
		}
		if diff := cmp.Diff(want, s.Samples); diff != "" {
			t.Errorf("%s samples (-want +got):\n%s", tc.file, diff)
		}
		if len(s.Events) != tc.events || s.Skipped != tc.skipped || s.Unanswered != tc.unanswered {
			t.Errorf("%s: %d events, %d skipped, %d unanswered; want %d, %d, %d", tc.file,
				len(s.Events), s.Skipped, s.Unanswered, tc.events, tc.skipped, tc.unanswered)
		}
		if got := s.busiestShare(); got != 20.0/30 {
			t.Errorf("%s: busiest share %v, want 2/3", tc.file, got)
		}
	}
}

func TestNodeSeriesErrors(t *testing.T) {
	for name, data := range map[string]string{
		"a-nodes.json": `[{"node":"a","connections":1}]`, // no time
		"b-nodes.json": `[{"t_ms":1}]`,                   // neither node nor event
		"c-nodes.json": `[{"t_ms":1`,                     // not JSON
		"d-nodes.csv":  "unix_s,connections\n1,2\n",      // no node column
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
