package jmeter

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// jmeterExpr matches a JMeter expression such as ${token} or
// ${__jexl3(${__P(rate,10)} * 60,)}, one level of nesting deep.
var jmeterExpr = regexp.MustCompile(`\$\{(?:[^{}]|\{[^{}]*\})*\}`)

// sampleValues replaces every JMeter expression with 1, which is valid JSON
// both inside a string ("token":"1") and as a number ("sent_ms":1): what is
// left must be valid JSON whatever the expressions evaluate to at run time.
func sampleValues(s string) string {
	return jmeterExpr.ReplaceAllString(s, "1")
}

// channelName is a valid channel name (docs/protocol.md, Channels).
var channelName = regexp.MustCompile(`^[A-Za-z0-9_:.\-@=/]{1,255}$`)

// opFields lists, per client op of docs/protocol.md, the fields it takes
// besides id and op, and which of them are required.
var opFields = map[string]map[string]bool{
	"connect":     {"token": false},
	"subscribe":   {"channel": true, "recover": false, "offset": false, "epoch": false},
	"unsubscribe": {"channel": true},
	"publish":     {"channel": true, "data": true, "idempotency_key": false},
	"presence":    {"channel": true},
	"history":     {"channel": true, "since": false, "limit": false},
	"ping":        {},
	"refresh":     {"token": true},
}

// checkCommands: every text frame the plan sends holds valid commands, one
// JSON object per line, and each connection's first command is connect.
func checkCommands(els []element) []error {
	var errs []error
	first := map[*node]string{} // thread group -> its first op
	connects := 0
	for _, e := range els {
		if e.tag != requestSampler && e.tag != writeSampler {
			continue
		}
		data, _ := e.prop("requestData")
		ops, err := commandOps(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", e.label(), err))
			continue
		}
		tg := e.threadGroup()
		if _, seen := first[tg]; !seen && len(ops) > 0 {
			first[tg] = ops[0]
		}
		for _, op := range ops {
			if op == "connect" {
				connects++
			}
		}
	}
	for tg, op := range first {
		if op != "connect" {
			errs = append(errs, fmt.Errorf("%s: the first command sent is %q; a connection's first command must be connect", tg.label(), op))
		}
	}
	if connects == 0 {
		errs = append(errs, fmt.Errorf("the plan never sends a connect command"))
	}
	return errs
}

// commandOps validates a frame's commands and returns their ops in order.
func commandOps(frame string) ([]string, error) {
	var ops []string
	for _, line := range strings.Split(frame, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		op, err := validCommand(sampleValues(line))
		if err != nil {
			return nil, fmt.Errorf("command %s: %w", line, err)
		}
		ops = append(ops, op)
	}
	if len(ops) == 0 {
		return nil, fmt.Errorf("sends no command")
	}
	return ops, nil
}

// validCommand checks one command line against docs/protocol.md.
func validCommand(line string) (string, error) {
	var cmd map[string]json.RawMessage
	if err := strictJSON(line, &cmd); err != nil {
		return "", fmt.Errorf("not valid JSON: %w", err)
	}
	var id uint64
	if err := json.Unmarshal(cmd["id"], &id); err != nil || id == 0 {
		return "", fmt.Errorf("id must be a positive integer, got %s", cmd["id"])
	}
	var op string
	if err := json.Unmarshal(cmd["op"], &op); err != nil {
		return "", fmt.Errorf("op must be a string, got %s", cmd["op"])
	}
	fields, known := opFields[op]
	if !known {
		return "", fmt.Errorf("unknown op %q", op)
	}
	for name, required := range fields {
		if _, ok := cmd[name]; required && !ok {
			return "", fmt.Errorf("%s needs %q", op, name)
		}
	}
	for name := range cmd {
		if _, ok := fields[name]; !ok && name != "id" && name != "op" {
			return "", fmt.Errorf("%s takes no field %q", op, name)
		}
	}
	return op, checkTypes(cmd)
}

// checkTypes checks the fields whose type the protocol fixes.
func checkTypes(cmd map[string]json.RawMessage) error {
	for _, name := range []string{"token", "channel", "epoch", "idempotency_key"} {
		raw, ok := cmd[name]
		var s string
		if ok && json.Unmarshal(raw, &s) != nil {
			return fmt.Errorf("%s must be a string, got %s", name, raw)
		}
		if ok && name == "channel" && !channelName.MatchString(s) {
			return fmt.Errorf("invalid channel name %q", s)
		}
	}
	return nil
}

// strictJSON decodes exactly one JSON value, with nothing after it.
func strictJSON(s string, v any) error {
	d := json.NewDecoder(strings.NewReader(s))
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return fmt.Errorf("more than one JSON value")
	}
	var rest bytes.Buffer
	_, _ = rest.ReadFrom(d.Buffered())
	if strings.TrimSpace(rest.String()) != "" {
		return fmt.Errorf("trailing data %q", rest.String())
	}
	return nil
}

// checkPublishBodies: every POST to the publish API sends a body the API
// accepts: {"channel": ..., "data": ...} (docs/protocol.md, Backend API).
func checkPublishBodies(els []element) []error {
	var errs []error
	for _, e := range els {
		if path, _ := e.prop("HTTPSampler.path"); e.tag != "HTTPSamplerProxy" || path != "/api/v1/publish" {
			continue
		}
		var body string
		e.walk(func(n *node) {
			if n.attrs["elementType"] == "HTTPArgument" {
				body, _ = n.prop("Argument.value")
			}
		})
		var req struct {
			Channel *string         `json:"channel"`
			Data    json.RawMessage `json:"data"`
		}
		switch err := strictJSON(sampleValues(body), &req); {
		case err != nil:
			errs = append(errs, fmt.Errorf("%s: publish body is not valid JSON: %w", e.label(), err))
		case req.Channel == nil || !channelName.MatchString(sampleValues(*req.Channel)):
			errs = append(errs, fmt.Errorf("%s: publish body needs a valid channel", e.label()))
		case len(req.Data) == 0:
			errs = append(errs, fmt.Errorf("%s: publish body needs data", e.label()))
		}
	}
	return errs
}
