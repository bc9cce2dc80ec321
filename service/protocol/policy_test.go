package protocol

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/close_policy.json from CloseRules")

// policyFile is the layout of testdata/close_policy.json (see its README).
type policyFile struct {
	Comment string `json:"comment"`
	Backoff struct {
		BaseMS        int64                        `json:"base_ms"`
		CapMS         int64                        `json:"cap_ms"`
		StableAfterMS int64                        `json:"stable_after_ms"`
		Classes       map[Backoff]backoffClassFile `json:"classes"`
	} `json:"backoff"`
	Default ReconnectPolicy `json:"default"`
	Rules   []ruleFile      `json:"rules"`
}

type backoffClassFile struct {
	MinDelayMS int64 `json:"min_delay_ms"`
	WindowMS   int64 `json:"window_ms"`
}

type ruleFile struct {
	From int `json:"from"`
	To   int `json:"to"`
	ReconnectPolicy
	Meaning string `json:"meaning"`
}

// policyJSON renders the Go policy data as testdata/close_policy.json.
func policyJSON(t *testing.T) []byte {
	t.Helper()
	var f policyFile
	f.Comment = "Generated from service/protocol/policy.go by go test ./service/protocol -run TestClosePolicyFile -update; see README.md."
	f.Backoff.BaseMS = BackoffBase.Milliseconds()
	f.Backoff.CapMS = BackoffCap.Milliseconds()
	f.Backoff.StableAfterMS = BackoffStableAfter.Milliseconds()
	f.Backoff.Classes = map[Backoff]backoffClassFile{}
	for name, c := range BackoffClasses {
		f.Backoff.Classes[name] = backoffClassFile{c.MinDelay.Milliseconds(), c.Window.Milliseconds()}
	}
	f.Default = DefaultReconnectPolicy
	for _, r := range CloseRules {
		f.Rules = append(f.Rules, ruleFile(r))
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return append(b, '\n')
}

// TestClosePolicyFile: the JSON every other library reads is the Go data.
func TestClosePolicyFile(t *testing.T) {
	want := policyJSON(t)
	const path = "testdata/close_policy.json"
	if *update {
		if err := os.WriteFile(path, want, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from CloseRules; run go test ./service/protocol -run TestClosePolicyFile -update", path)
	}
}

// TestClosePolicy spells out the contract's rule: reconnect with backoff on
// every close code but the terminal ones, a new token on 4001.
func TestClosePolicy(t *testing.T) {
	tests := []struct {
		code int
		want ReconnectPolicy
	}{
		{1000, ReconnectPolicy{StayClosed, ""}},
		{1001, ReconnectPolicy{Reconnect, BackoffSpread}},
		{1003, ReconnectPolicy{StayClosed, ""}},
		{1006, ReconnectPolicy{Reconnect, BackoffFull}},
		{1007, ReconnectPolicy{StayClosed, ""}},
		{1008, ReconnectPolicy{StayClosed, ""}},
		{1009, ReconnectPolicy{StayClosed, ""}},
		{1011, ReconnectPolicy{Reconnect, BackoffFull}},
		{1012, ReconnectPolicy{Reconnect, BackoffSpread}},
		{1013, ReconnectPolicy{Reconnect, BackoffSlow}},
		{4001, ReconnectPolicy{NewToken, BackoffFull}},
		{4003, ReconnectPolicy{StayClosed, ""}},
		{4008, ReconnectPolicy{Reconnect, BackoffFull}},
		{4009, ReconnectPolicy{StayClosed, ""}},
		{4029, ReconnectPolicy{Reconnect, BackoffSlow}},
		{4100, ReconnectPolicy{Reconnect, BackoffFull}},
		{4499, ReconnectPolicy{Reconnect, BackoffFull}},
		{4500, ReconnectPolicy{StayClosed, ""}},
		{4999, ReconnectPolicy{StayClosed, ""}},
		{1014, DefaultReconnectPolicy},
		{4000, DefaultReconnectPolicy},
		{5000, DefaultReconnectPolicy},
	}
	for _, tt := range tests {
		if got := PolicyFor(tt.code); got != tt.want {
			t.Errorf("PolicyFor(%d) = %+v, want %+v", tt.code, got, tt.want)
		}
	}
	if got := CloseTokenExpired.Policy(); got.Action != NewToken {
		t.Errorf("CloseTokenExpired.Policy() = %+v, want a new token", got)
	}
}

// TestClosePolicyCoversEveryServerCode: each code the server sends (and
// 1006, which clients report) has a rule of its own, and a rule's fields
// fit together.
func TestClosePolicyCoversEveryServerCode(t *testing.T) {
	named := map[int]bool{}
	for i, r := range CloseRules {
		if r.From > r.To || (i > 0 && r.From <= CloseRules[i-1].To) {
			t.Errorf("rule %d..%d overlaps or is out of order", r.From, r.To)
		}
		if (r.Action == StayClosed) != (r.Backoff == "") {
			t.Errorf("rule %d..%d: action %s with backoff %q", r.From, r.To, r.Action, r.Backoff)
		}
		if _, ok := BackoffClasses[r.Backoff]; r.Backoff != "" && !ok {
			t.Errorf("rule %d..%d: unknown backoff %q", r.From, r.To, r.Backoff)
		}
		for c := r.From; c <= r.To; c++ {
			named[c] = true
		}
	}
	for _, c := range CloseCodes {
		if !named[c] {
			t.Errorf("close code %d has no rule", c)
		}
	}
}
