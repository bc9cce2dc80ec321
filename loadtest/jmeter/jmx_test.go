package jmeter

import (
	"errors"
	"os"
	"strings"
	"testing"
)

func readFiles(t *testing.T) (plan, readme string) {
	t.Helper()
	p, err := os.ReadFile("wsgateway.jmx")
	if err != nil {
		t.Fatal(err)
	}
	r, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	return string(p), string(r)
}

// TestPlan checks what the smoke run (smoke_test.go) does not prove: that
// README.md documents exactly the properties the plan reads, that sizes are
// properties, that the subprotocol is offered and the JTL listeners exist.
// That the plan loads, its classes exist and its commands are valid, the
// real run against a node proves.
func TestPlan(t *testing.T) {
	plan, readme := readFiles(t)
	for _, err := range checkPlan([]byte(plan), []byte(readme)) {
		t.Error(err)
	}
}

// TestPlanScenarios checks that the plan holds what README.md promises: the
// three thread groups and the samplers whose labels it tells users to read.
func TestPlanScenarios(t *testing.T) {
	plan, _ := readFiles(t)
	root, err := parseXML([]byte(plan))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]string{}
	root.walk(func(n *node) {
		if tc, ok := n.attrs["testclass"]; ok {
			names[n.attrs["testname"]] = tc
		}
	})
	want := map[string]string{
		"connect":            "ThreadGroup",
		"fanout subscribers": "ThreadGroup",
		"fanout publisher":   "ThreadGroup",
		"connect: setup":     "TransactionController",
		"fanout: setup":      "TransactionController",
		"connect: open":      openSampler,
		"fanout: delivery":   "eu.luminis.jmeter.wssampler.SingleReadWebSocketSampler",
		"fanout: publish":    "HTTPSamplerProxy",
	}
	for name, class := range want {
		if names[name] != class {
			t.Errorf("element %q: testclass %q, want %q", name, names[name], class)
		}
	}
}

// TestBrokenPlans feeds the checks deliberately broken copies of the plan:
// each must be caught, or the checks prove nothing.
func TestBrokenPlans(t *testing.T) {
	plan, readme := readFiles(t)
	cases := []struct {
		name      string
		old, new  string // the first old in the plan becomes new
		all       bool   // replace every old, not just the first
		wantError string
	}{
		{"not XML", "</jmeterTestPlan>", "", false, "not well-formed XML"},
		{"JMeter 2 plan", `jmeter="5.6.3"`, `jmeter="2.13 r1665067"`, false, "plan is for JMeter 5"},
		{"element without its hashTree", "<hashTree/>", "", false, "not followed by its hashTree"},
		{"hashTree without an element", "<hashTree/>", "<hashTree/><hashTree/>", false, "hashTree without an element"},
		{"undocumented property", "${__P(hold_ms,1000)}", "${__P(hold_millis,1000)}", false,
			`"hold_millis" is used by the plan but not documented`},
		{"thread count not a property", "${__P(vus,100)}", "100", false, "ThreadGroup.num_threads"},
		{"no subprotocol", "<stringProp name=\"Header.value\">wsgateway.v1</stringProp>",
			"<stringProp name=\"Header.value\">wsgateway.v2</stringProp>", false, "Sec-WebSocket-Protocol"},
		{"no JTL", ".jtl</stringProp>", ".csv</stringProp>", true, "JTL"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := 1
			if tc.all {
				n = -1
			}
			broken := strings.Replace(plan, tc.old, tc.new, n)
			if broken == plan {
				t.Fatalf("%q is not in the plan: the case breaks nothing", tc.old)
			}
			errs := checkPlan([]byte(broken), []byte(readme))
			if !strings.Contains(errors.Join(errs...).Error()+" ", tc.wantError) {
				t.Errorf("want an error containing %q, got:\n%v", tc.wantError, errors.Join(errs...))
			}
		})
	}
}

// TestUndocumentedRow checks the other direction of the property check: a
// README row for a property the plan does not read is an error too.
func TestUndocumentedRow(t *testing.T) {
	plan, readme := readFiles(t)
	readme = strings.Replace(readme, "| `host` |", "| `hostname` | x | y |\n| `host` |", 1)
	errs := checkPlan([]byte(plan), []byte(readme))
	want := `"hostname" is documented in README.md but the plan does not use it`
	if !strings.Contains(errors.Join(errs...).Error()+" ", want) {
		t.Errorf("want %q, got %v", want, errors.Join(errs...))
	}
}
