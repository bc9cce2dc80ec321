package backend

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"time"
)

// request is a hook body (CONTRACT §6): the common fields and each hook's own.
type request struct {
	Hook    string            `json:"hook"`
	Client  string            `json:"client"`
	Node    string            `json:"node"`
	Zone    string            `json:"zone"`
	User    *string           `json:"user"` // null before a connect in mode hook decided it
	Meta    json.RawMessage   `json:"meta"`
	Headers map[string]string `json:"headers"` // connect
	Claims  json.RawMessage   `json:"claims"`  // connect
	Channel string            `json:"channel"` // subscribe, publish
	Data    json.RawMessage   `json:"data"`    // subscribe, publish, rpc
	Method  string            `json:"method"`  // rpc

	ctx context.Context
}

// answer is exactly one of result, error or disconnect; a nil Result with neither of the
// others is the empty result, "go ahead".
type answer struct {
	Result     any
	Error      *hookError
	Disconnect *disconnect
}

// MarshalJSON writes the one member the answer has.
func (a answer) MarshalJSON() ([]byte, error) {
	switch {
	case a.Error != nil:
		return json.Marshal(struct {
			Error *hookError `json:"error"`
		}{a.Error})
	case a.Disconnect != nil:
		return json.Marshal(struct {
			Disconnect *disconnect `json:"disconnect"`
		}{a.Disconnect})
	}
	result := a.Result
	if result == nil {
		result = struct{}{}
	}
	return json.Marshal(struct {
		Result any `json:"result"`
	}{result})
}

type hookError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type disconnect struct {
	Code   int    `json:"code"`
	Reason string `json:"reason"`
}

// sessionMeta is kept by the gateway with the connection and sent back in every later hook.
type sessionMeta struct {
	Session string `json:"session"`
}

// header returns a forwarded header, whatever the case of its name.
func (r *request) header(name string) string {
	for k, v := range r.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// connect signs the client in by its session cookie (mode hook), or accepts a client whose
// token already named it (mode token_then_hook). A cookie user gets the chat's permissions,
// since there is no token to carry them.
func (b *Backend) connect(r *request) answer {
	cookie := r.header("Cookie")
	user, signedIn := b.user(cookie)
	switch {
	case signedIn:
		res := map[string]any{
			"user":      user,
			"subscribe": []string{"chat:*"},
			"publish":   []string{"chat:*"},
			"meta":      sessionMeta{Session: sessionID(cookie)},
			"data":      map[string]string{"name": user},
		}
		if r.User != nil {
			delete(res, "user") // the token named the user; a hook may not rename it
		}
		return ok(res)
	case r.User != nil:
		return ok(map[string]any{})
	}
	return errorf("unauthorized", "no session: sign in first")
}

// sessionID is the value of the session cookie.
func sessionID(cookieHeader string) string {
	cookies, _ := http.ParseCookie(cookieHeader)
	for _, c := range cookies {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

// subscribe admits every signed-in user to the chat's rooms and tells them where they are.
func (b *Backend) subscribe(r *request) answer {
	if r.User == nil || *r.User == "" {
		return errorf("permission_denied", "sign in to join %s", r.Channel)
	}
	b.mu.Lock()
	n := b.published[r.Channel]
	b.mu.Unlock()
	return ok(map[string]any{"data": map[string]any{"room": r.Channel, "messages": n}})
}

// publish moderates a message: one with a banned word is refused with an application error
// code, masked words are starred out (the gateway publishes the replacement), anything else goes
// ahead unchanged.
func (b *Backend) publish(r *request) answer {
	text, rewrite, err := textOf(r.Data)
	if err != nil {
		return errorf("bad_request", "%v", err)
	}
	lower := strings.ToLower(text)
	for _, w := range b.banned {
		if w != "" && strings.Contains(lower, w) {
			return errorf("app_banned_word", "messages may not contain %q", w)
		}
	}
	masked := b.mask(text)
	b.mu.Lock()
	b.published[r.Channel]++
	b.mu.Unlock()
	if masked == text {
		return ok(map[string]any{})
	}
	return ok(map[string]any{"data": rewrite(masked)})
}

// mask stars out every masked word, whatever its case.
func (b *Backend) mask(text string) string {
	for _, w := range b.masked {
		if w == "" {
			continue
		}
		re := regexp.MustCompile("(?i)" + regexp.QuoteMeta(w))
		text = re.ReplaceAllStringFunc(text, func(m string) string { return strings.Repeat("*", len([]rune(m))) })
	}
	return text
}

// textOf reads the text of a message: a JSON string, or an object's "text" field. rewrite
// builds the same shape around new text, keeping the object's other fields.
func textOf(data json.RawMessage) (text string, rewrite func(string) any, err error) {
	if err := json.Unmarshal(data, &text); err == nil {
		return text, func(s string) any { return s }, nil
	}
	var obj map[string]any
	if err := json.Unmarshal(data, &obj); err != nil {
		return "", nil, errBadData
	}
	t, isString := obj["text"].(string)
	if !isString {
		return "", nil, errBadData
	}
	return t, func(s string) any {
		obj["text"] = s
		return obj
	}, nil
}

// rpc answers the backend's methods:
//   - echo:upper   the data (a string, or an object's text) in upper case
//   - echo:sleep   waits data milliseconds (at most 10 s), then answers {"slept_ms": n}: a slow
//     call, for trying what a slow hook does to a connection
//   - room:info    {"room", "messages"} for data {"room": "chat:..."}: publishes accepted there
//   - session:logout  signs the session out and closes the connection with 4500 (terminal)
func (b *Backend) rpc(r *request) answer {
	switch r.Method {
	case "echo:upper":
		text, rewrite, err := textOf(r.Data)
		if err != nil {
			return errorf("bad_request", "%v", err)
		}
		return ok(map[string]any{"data": rewrite(strings.ToUpper(text))})
	case "echo:sleep":
		var ms int
		if err := json.Unmarshal(r.Data, &ms); err != nil || ms < 0 || ms > 10_000 {
			return errorf("bad_request", "data must be milliseconds, 0 to 10000")
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.ctx.Done():
		}
		return ok(map[string]any{"data": map[string]int{"slept_ms": ms}})
	case "room:info":
		var q struct {
			Room string `json:"room"`
		}
		if err := json.Unmarshal(r.Data, &q); err != nil || q.Room == "" {
			return errorf("bad_request", `data must be {"room":"<channel>"}`)
		}
		b.mu.Lock()
		n := b.published[q.Room]
		b.mu.Unlock()
		return ok(map[string]any{"data": map[string]any{"room": q.Room, "messages": n}})
	case "session:logout":
		var m sessionMeta
		if json.Unmarshal(r.Meta, &m) == nil && m.Session != "" {
			b.endSession(m.Session)
		}
		return answer{Disconnect: &disconnect{Code: 4500, Reason: "signed out"}}
	}
	return errorf("not_found", "no method %q", r.Method)
}
