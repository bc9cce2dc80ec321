package main

import (
	"encoding/json"
	"slices"
	"testing"
	"time"
)

func TestParseFlags(t *testing.T) {
	cases := []struct {
		name          string
		args          []string
		wantErr       bool
		wantScenarios []string
		wantStorm     int
	}{
		{name: "smoke", args: []string{"-mode", "smoke"}, wantScenarios: modeScenarios["smoke"], wantStorm: 150},
		{name: "full by default", args: nil, wantScenarios: modeScenarios["full"], wantStorm: 600},
		{name: "chosen scenarios", args: []string{"-scenarios", "soak wsbench-fanout", "-storm-clients", "20"},
			wantScenarios: []string{"soak", "wsbench-fanout"}, wantStorm: 20},
		{name: "full-only scenario in smoke", args: []string{"-mode", "smoke", "-scenarios", "soak"}, wantErr: true},
		{name: "unknown mode", args: []string{"-mode", "huge"}, wantErr: true},
		{name: "bad points", args: []string{"-connect-points", "10 x"}, wantErr: true},
		{name: "stray argument", args: []string{"smoke"}, wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := parseFlags(tc.args)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("parseFlags(%q) accepted", tc.args)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(c.scenarios, tc.wantScenarios) || c.stormClients != tc.wantStorm {
				t.Errorf("scenarios %q, storm clients %d; want %q, %d", c.scenarios, c.stormClients, tc.wantScenarios, tc.wantStorm)
			}
		})
	}
}

// The manifest's params keep the order given (the k6 -e order), as the
// bash script wrote them.
func TestParamsJSONKeepsOrder(t *testing.T) {
	b, err := json.Marshal(params{{"SUBS", "200"}, {"CHANNELS", "4"}, {"A\"", "x"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"SUBS":"200","CHANNELS":"4","A\"":"x"}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
}

func TestDurationFlag(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{{3 * time.Minute, "3m"}, {90 * time.Second, "90s"}, {20 * time.Second, "20s"}} {
		if got := durationFlag(tc.d); got != tc.want {
			t.Errorf("durationFlag(%v) = %q, want %q", tc.d, got, tc.want)
		}
	}
}
