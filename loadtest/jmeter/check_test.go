package jmeter

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// checkPlan returns every problem found in a plan; readme is the README that
// must document the plan's properties. No problems: nil.
func checkPlan(plan, readme []byte) []error {
	root, err := parseXML(plan)
	if err != nil {
		return []error{fmt.Errorf("the plan is not well-formed XML: %w", err)}
	}
	errs := checkRoot(root)
	if len(errs) > 0 {
		return errs
	}
	els, errs := elementsOf(root.kids[0], nil, nil, "jmeterTestPlan")
	errs = append(errs, checkTestPlan(els)...)
	errs = append(errs, checkThreadGroups(els)...)
	errs = append(errs, checkSubprotocol(els)...)
	errs = append(errs, checkListeners(els)...)
	errs = append(errs, checkProperties(root, readme)...)
	return errs
}

// checkRoot: a JMeter 5 plan whose root holds exactly one hashTree.
func checkRoot(root *node) []error {
	var errs []error
	if root.tag != "jmeterTestPlan" {
		errs = append(errs, fmt.Errorf("root element is <%s>, want <jmeterTestPlan>", root.tag))
	}
	if v := root.attrs["jmeter"]; !strings.HasPrefix(v, "5.") {
		errs = append(errs, fmt.Errorf("jmeterTestPlan jmeter=%q: the plan is for JMeter 5", v))
	}
	if len(root.kids) != 1 || root.kids[0].tag != "hashTree" {
		errs = append(errs, fmt.Errorf("jmeterTestPlan must hold exactly one hashTree"))
	}
	return errs
}

// checkTestPlan: the tree starts with exactly one TestPlan, at the top.
func checkTestPlan(els []element) []error {
	var plans int
	for _, e := range els {
		if e.tag == "TestPlan" {
			plans++
			if len(e.ancestors) != 0 {
				return []error{fmt.Errorf("%s is not at the top of the tree", e.label())}
			}
		}
	}
	if plans != 1 {
		return []error{fmt.Errorf("want one TestPlan, got %d", plans)}
	}
	return nil
}

// checkThreadGroups: there are thread groups, each sized and timed by
// properties so a run is configured from the command line.
func checkThreadGroups(els []element) []error {
	var errs []error
	groups := 0
	for _, e := range els {
		if e.tag != "ThreadGroup" {
			continue
		}
		groups++
		for _, p := range []string{"ThreadGroup.num_threads", "ThreadGroup.duration"} {
			if v, _ := e.prop(p); !strings.Contains(v, "${__P(") {
				errs = append(errs, fmt.Errorf("%s: %s is %q, want a ${__P(...)} property", e.label(), p, v))
			}
		}
	}
	if groups == 0 {
		errs = append(errs, fmt.Errorf("the plan has no ThreadGroup"))
	}
	return errs
}

// checkSubprotocol: every connection the plan opens offers wsgateway.v1,
// through an HTTP Header Manager in the open sampler's scope (the plugin
// sends that manager's headers with the upgrade request).
func checkSubprotocol(els []element) []error {
	var errs []error
	for _, e := range els {
		if e.tag != openSampler {
			continue
		}
		if !e.inScope(offersSubprotocol) {
			errs = append(errs, fmt.Errorf("%s: no HeaderManager in scope sends %s: %s",
				e.label(), subprotocolName, subprotocol))
		}
	}
	return errs
}

func offersSubprotocol(n *node) bool {
	if n.tag != "HeaderManager" {
		return false
	}
	found := false
	n.walk(func(h *node) {
		name, _ := h.prop("Header.name")
		value, _ := h.prop("Header.value")
		if h.attrs["elementType"] == "Header" && strings.EqualFold(name, subprotocolName) &&
			slices.Contains(strings.Split(strings.ReplaceAll(value, " ", ""), ","), subprotocol) {
			found = true
		}
	})
	return found
}

// checkListeners: results are written to JTL files.
func checkListeners(els []element) []error {
	for _, e := range els {
		if f, _ := e.prop("filename"); e.tag == "ResultCollector" && strings.HasSuffix(f, ".jtl") {
			return nil
		}
	}
	return []error{fmt.Errorf("no ResultCollector writes a .jtl file (JTL results)")}
}

// propertyUse matches the name in ${__P(name,default)}.
var propertyUse = regexp.MustCompile(`__P\(\s*([^,)\s]+)`)

// propertyRow matches a row of README.md's property table: | `name` | ...
var propertyRow = regexp.MustCompile("(?m)^\\| `([A-Za-z0-9_.]+)` \\|")

// checkProperties: the properties the plan reads (${__P(...)}) are exactly
// the ones README.md's property table documents.
func checkProperties(root *node, readme []byte) []error {
	used := map[string]bool{}
	root.walk(func(n *node) {
		texts := []string{n.text}
		for _, v := range n.attrs {
			texts = append(texts, v)
		}
		for _, t := range texts {
			for _, m := range propertyUse.FindAllStringSubmatch(t, -1) {
				used[m[1]] = true
			}
		}
	})
	documented := map[string]bool{}
	for _, m := range propertyRow.FindAllSubmatch(propertiesSection(readme), -1) {
		documented[string(m[1])] = true
	}
	var errs []error
	for _, p := range sortedKeys(used) {
		if !documented[p] {
			errs = append(errs, fmt.Errorf("property %q is used by the plan but not documented in README.md", p))
		}
	}
	for _, p := range sortedKeys(documented) {
		if !used[p] {
			errs = append(errs, fmt.Errorf("property %q is documented in README.md but the plan does not use it", p))
		}
	}
	return errs
}

// propertiesSection returns README.md's "### Properties" section, up to the
// next heading; nil when there is none.
func propertiesSection(readme []byte) []byte {
	_, after, found := bytes.Cut(readme, []byte("\n### Properties\n"))
	if !found {
		return nil
	}
	if i := bytes.Index(after, []byte("\n#")); i >= 0 {
		after = after[:i]
	}
	return after
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// The plugin's sampler that opens a connection, and the subprotocol it must
// offer (docs/protocol.md).
const (
	openSampler     = "eu.luminis.jmeter.wssampler.OpenWebSocketSampler"
	subprotocol     = "wsgateway.v1"
	subprotocolName = "Sec-WebSocket-Protocol"
)
