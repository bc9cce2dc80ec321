package jmeter

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
)

// node is one XML element of a plan: its tag, attributes, children and the
// text directly inside it. Comments are dropped.
type node struct {
	tag   string
	attrs map[string]string
	kids  []*node
	text  string
}

// parseXML reads a whole document; it fails on anything not well-formed.
func parseXML(data []byte) (*node, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	root := &node{}
	stack := []*node{root}
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			n := &node{tag: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				n.attrs[a.Name.Local] = a.Value
			}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			top.text += string(t)
		}
	}
	if len(root.kids) != 1 {
		return nil, fmt.Errorf("want one root element, got %d", len(root.kids))
	}
	return root.kids[0], nil
}

// walk calls fn for n and every element under it, depth first.
func (n *node) walk(fn func(*node)) {
	fn(n)
	for _, k := range n.kids {
		k.walk(fn)
	}
}

// prop returns the text of the direct property child named name (a
// stringProp, boolProp, intProp...), and whether there is one.
func (n *node) prop(name string) (string, bool) {
	for _, k := range n.kids {
		if strings.HasSuffix(k.tag, "Prop") && k.attrs["name"] == name {
			return k.text, true
		}
	}
	return "", false
}

// label names an element in messages: its tag and testname.
func (n *node) label() string {
	return fmt.Sprintf("%s %q", n.tag, n.attrs["testname"])
}

// element is a test element in the plan's tree, with what JMeter's scoping
// rules need: the elements on the path from the TestPlan down to it, and
// each of their levels' siblings.
type element struct {
	*node
	body      []*node   // the elements in its own hashTree
	ancestors []*node   // outermost first
	levels    [][]*node // the siblings at each level from the TestPlan's down to its own
}

// inScope reports whether some element in e's scope (a sibling of e or of
// one of its ancestors, or an element in e's own hashTree) satisfies fn: the
// elements JMeter applies to e, such as config elements.
func (e element) inScope(fn func(*node) bool) bool {
	for _, level := range append(e.levels, e.body) {
		for _, n := range level {
			if fn(n) {
				return true
			}
		}
	}
	return false
}

// elementsOf pairs the children of a hashTree into elements, each followed
// by its own hashTree, and reports every pairing that is wrong. levels are
// the sibling lists of the hashTrees above this one.
func elementsOf(tree *node, ancestors []*node, levels [][]*node, where string) ([]element, []error) {
	var (
		out  []element
		errs []error
	)
	levels = append(append([][]*node(nil), levels...), elementNodes(tree))
	for i := 0; i < len(tree.kids); i++ {
		k := tree.kids[i]
		if k.tag == "hashTree" {
			errs = append(errs, fmt.Errorf("%s: a hashTree without an element before it", where))
			continue
		}
		if i+1 >= len(tree.kids) || tree.kids[i+1].tag != "hashTree" {
			errs = append(errs, fmt.Errorf("%s: %s is not followed by its hashTree", where, k.label()))
			continue
		}
		i++
		body := tree.kids[i]
		out = append(out, element{node: k, body: elementNodes(body), ancestors: ancestors, levels: levels})
		sub, subErrs := elementsOf(body, appendNode(ancestors, k), levels, where+" > "+k.label())
		out = append(out, sub...)
		errs = append(errs, subErrs...)
	}
	return out, errs
}

// elementNodes returns the test elements directly in a hashTree.
func elementNodes(tree *node) []*node {
	var out []*node
	for _, k := range tree.kids {
		if k.tag != "hashTree" {
			out = append(out, k)
		}
	}
	return out
}

func appendNode(list []*node, n *node) []*node {
	return append(append([]*node(nil), list...), n)
}
