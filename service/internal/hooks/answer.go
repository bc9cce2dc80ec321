package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// The answer is read strictly: a backend that answers something the
// gateway might misread (a typo'd field, a second verdict, a duplicate
// name) fails loudly instead of being half-obeyed. Unknown members are
// errors here, unlike in client commands, because a misspelled
// "subscribe" silently ignored would leave the token's patterns in force.
var strictAnswer = jsonv2.JoinOptions(
	jsonv2.MatchCaseInsensitiveNames(false),
	jsonv2.RejectUnknownMembers(true),
	jsontext.AllowDuplicateNames(false),
	jsontext.AllowInvalidUTF8(false),
)

// The bounds of a backend's verdicts (CONTRACT §6).
const (
	minHookClose    = 4100
	maxHookClose    = 4999
	maxReasonBytes  = 120
	maxMessageBytes = 1024
)

type answerWire struct {
	Result     jsontext.Value  `json:"result"`
	Error      *errorWire      `json:"error"`
	Disconnect *disconnectWire `json:"disconnect"`
}

type errorWire struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type disconnectWire struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

type resultWire struct {
	User      jsontext.Value `json:"user"`
	Subscribe jsontext.Value `json:"subscribe"`
	Publish   jsontext.Value `json:"publish"`
	ExpireAt  jsontext.Value `json:"expire_at"`
	Meta      jsontext.Value `json:"meta"`
	Data      jsontext.Value `json:"data"`
}

// parse reads a 200 answer. Its error makes the call a failure.
func (r *Route) parse(raw []byte) (Answer, error) {
	var w answerWire
	if err := jsonv2.Unmarshal(raw, &w, strictAnswer); err != nil {
		return Answer{}, fmt.Errorf("answer: %w", err)
	}
	n := 0
	if present(w.Result) {
		n++
	}
	if w.Error != nil {
		n++
	}
	if w.Disconnect != nil {
		n++
	}
	if n != 1 {
		return Answer{}, errors.New("answer: want exactly one of result, error, disconnect")
	}
	switch {
	case w.Error != nil:
		if !validAppCode(w.Error.Code) {
			return Answer{}, fmt.Errorf("answer: error.code %q is not [a-z][a-z0-9_]{0,63}", w.Error.Code)
		}
		if len(w.Error.Message) > maxMessageBytes {
			return Answer{}, fmt.Errorf("answer: error.message is over %d bytes", maxMessageBytes)
		}
		return Answer{Error: &protocol.Error{Code: w.Error.Code, Message: w.Error.Message}}, nil
	case w.Disconnect != nil:
		d := w.Disconnect
		if d.Code < minHookClose || d.Code > maxHookClose {
			return Answer{}, fmt.Errorf("answer: disconnect.code %d is outside %d-%d", d.Code, minHookClose, maxHookClose)
		}
		if len(d.Reason) > maxReasonBytes {
			return Answer{}, fmt.Errorf("answer: disconnect.reason is over %d bytes", maxReasonBytes)
		}
		return Answer{Disconnect: &protocol.Disconnect{Code: d.Code, Reason: d.Reason}}, nil
	}
	res, err := r.result(w.Result)
	if err != nil {
		return Answer{}, fmt.Errorf("answer: result: %w", err)
	}
	return Answer{Result: res}, nil
}

// result reads a result object, allowing only the fields of r's hook.
func (r *Route) result(raw jsontext.Value) (*Result, error) {
	var w resultWire
	if err := jsonv2.Unmarshal(raw, &w, strictAnswer); err != nil {
		return nil, err
	}
	allowed := map[string]bool{"data": true}
	if r.hook == HookConnect {
		allowed = map[string]bool{"data": true, "subscribe": true, "publish": true, "expire_at": true, "meta": true, "user": r.userAllowed}
	}
	fields := []struct {
		name string
		v    jsontext.Value
	}{{"user", w.User}, {"subscribe", w.Subscribe}, {"publish", w.Publish}, {"expire_at", w.ExpireAt}, {"meta", w.Meta}, {"data", w.Data}}
	for _, f := range fields {
		if present(f.v) && !allowed[f.name] {
			return nil, fmt.Errorf("%s is not allowed in a %s answer%s", f.name, r.hook, r.modeNote(f.name))
		}
	}
	res := &Result{}
	var err error
	if present(w.User) {
		if err = jsonv2.Unmarshal(w.User, &res.User); err != nil {
			return nil, fmt.Errorf("user: %w", err)
		}
	}
	if res.Subscribe, err = patterns(w.Subscribe); err != nil {
		return nil, fmt.Errorf("subscribe: %w", err)
	}
	if res.Publish, err = patterns(w.Publish); err != nil {
		return nil, fmt.Errorf("publish: %w", err)
	}
	if present(w.ExpireAt) {
		if err = jsonv2.Unmarshal(w.ExpireAt, &res.ExpireAt); err != nil || res.ExpireAt < 0 {
			return nil, fmt.Errorf("expire_at: want unix seconds, got %s", w.ExpireAt)
		}
	}
	res.Meta, res.Data = compact(w.Meta), compact(w.Data)
	return res, nil
}

func (r *Route) modeNote(field string) string {
	if field == "user" && r.hook == HookConnect {
		return " in mode token_then_hook (the token names the user)"
	}
	return ""
}

// patterns reads a pattern list: absent or null is nil (keep the token's),
// anything else a non-nil list, even empty (replace them).
func patterns(v jsontext.Value) ([]string, error) {
	if !present(v) {
		return nil, nil
	}
	var p []string
	if err := jsonv2.Unmarshal(v, &p); err != nil {
		return nil, err
	}
	if p == nil {
		p = []string{}
	}
	if i := slices.Index(p, ""); i >= 0 {
		return nil, fmt.Errorf("[%d] is empty", i)
	}
	return p, nil
}

// present: the member was in the object with a value other than null.
func present(v jsontext.Value) bool { return len(v) > 0 && v.Kind() != 'n' }

// compact returns v without insignificant whitespace, nil when absent or
// null: meta and data are stored and relayed as they are, so store them
// once in their smallest form.
func compact(v jsontext.Value) json.RawMessage {
	if !present(v) {
		return nil
	}
	out := v.Clone()
	if err := out.Compact(); err != nil {
		return nil // unreachable: the decoder has checked v
	}
	return json.RawMessage(out)
}
