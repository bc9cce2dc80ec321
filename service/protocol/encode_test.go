package protocol

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// decodeJSON decodes b into generic values, numbers kept as json.Number so
// that large offsets and ids compare exactly.
func decodeJSON(t *testing.T, b []byte) any {
	t.Helper()
	if !json.Valid(b) {
		t.Fatalf("output is not valid JSON: %s", b)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", b, err)
	}
	return v
}

func TestAppendEncoders(t *testing.T) {
	pub := &Publication{Channel: "chat:lobby", Offset: 46, Epoch: "E", Data: []byte(`{"text":"hi"}`), User: "alice"}
	apiPub := &Publication{Channel: "news", Offset: 1<<64 - 1, Epoch: `e"1\`, Data: []byte(`[1,"two",null]`)}
	odd := &Publication{Channel: "c", Offset: 0, Epoch: "", Data: []byte(`"<&>\u2028"`), User: "bob\n\"\x01"}
	type obj = map[string]any
	tests := []struct {
		name   string
		encode func(dst []byte) []byte
		want   any
	}{
		{"push with user", func(dst []byte) []byte { return AppendPush(dst, pub) },
			obj{"push": "pub", "channel": "chat:lobby", "offset": json.Number("46"), "epoch": "E",
				"data": obj{"text": "hi"}, "user": "alice"}},
		{"push from the API has no user", func(dst []byte) []byte { return AppendPush(dst, apiPub) },
			obj{"push": "pub", "channel": "news", "offset": json.Number("18446744073709551615"), "epoch": `e"1\`,
				"data": []any{json.Number("1"), "two", nil}}},
		{"push with escapes", func(dst []byte) []byte { return AppendPush(dst, odd) },
			obj{"push": "pub", "channel": "c", "offset": json.Number("0"), "epoch": "",
				"data": "<&>\u2028", "user": "bob\n\"\x01"}},
		{"publication", func(dst []byte) []byte { return AppendPublication(dst, pub) },
			obj{"channel": "chat:lobby", "offset": json.Number("46"), "epoch": "E",
				"data": obj{"text": "hi"}, "user": "alice"}},
		{"publication without user", func(dst []byte) []byte { return AppendPublication(dst, apiPub) },
			obj{"channel": "news", "offset": json.Number("18446744073709551615"), "epoch": `e"1\`,
				"data": []any{json.Number("1"), "two", nil}}},
		{"unsub", func(dst []byte) []byte { return AppendUnsub(dst, "chat:lobby", "insufficient_state") },
			obj{"push": "unsub", "channel": "chat:lobby", "reason": "insufficient_state"}},
		{"unsub with escapes", func(dst []byte) []byte { return AppendUnsub(dst, `a"b`, "x\\y\t") },
			obj{"push": "unsub", "channel": `a"b`, "reason": "x\\y\t"}},
		{"result", func(dst []byte) []byte { return AppendResult(dst, 7, []byte(`{"offset":3,"epoch":"E"}`)) },
			obj{"id": json.Number("7"), "result": obj{"offset": json.Number("3"), "epoch": "E"}}},
		{"empty result", func(dst []byte) []byte { return AppendResult(dst, 1<<64-1, []byte(`{}`)) },
			obj{"id": json.Number("18446744073709551615"), "result": obj{}}},
		{"reply with connect result", func(dst []byte) []byte {
			return AppendReply(dst, 1, ConnectResult{Client: "C", User: "u", Node: "n", Zone: "z", PingInterval: 25})
		}, obj{"id": json.Number("1"), "result": obj{"client": "C", "user": "u", "node": "n", "zone": "z",
			"ping_interval": json.Number("25")}}},
		{"reply with subscribe result", func(dst []byte) []byte {
			return AppendReply(dst, 2, SubscribeResult{Offset: 46, Epoch: "E", Recovered: true, Publications: Publications{pub}})
		}, obj{"id": json.Number("2"), "result": obj{"offset": json.Number("46"), "epoch": "E", "recovered": true,
			"publications": []any{obj{"channel": "chat:lobby", "offset": json.Number("46"), "epoch": "E",
				"data": obj{"text": "hi"}, "user": "alice"}}}}},
		{"reply with empty result", func(dst []byte) []byte { return AppendReply(dst, 3, struct{}{}) },
			obj{"id": json.Number("3"), "result": obj{}}},
		{"reply that cannot be encoded is an internal error", func(dst []byte) []byte { return AppendReply(dst, 4, func() {}) },
			obj{"id": json.Number("4"), "error": obj{"code": CodeInternal, "message": "encode result"}}},
		{"error with id", func(dst []byte) []byte { return AppendError(dst, 9, Errorf(CodePermissionDenied, "no %q", "chat")) },
			obj{"id": json.Number("9"), "error": obj{"code": "permission_denied", "message": `no "chat"`}}},
		{"error without id leaves it out", func(dst []byte) []byte { return AppendError(dst, 0, Errorf(CodeBadRequest, "invalid JSON")) },
			obj{"error": obj{"code": "bad_request", "message": "invalid JSON"}}},
		{"error message with invalid UTF-8", func(dst []byte) []byte {
			return AppendError(dst, 5, &Error{Code: CodeBadRequest, Message: "op \xe2\x82"})
		},
			obj{"id": json.Number("5"), "error": obj{"code": "bad_request", "message": "op \ufffd\ufffd"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out := tt.encode(nil)
			if bytes.ContainsAny(out, "\n\r") {
				t.Errorf("output holds a raw line break, which would split the frame: %q", out)
			}
			if diff := cmp.Diff(tt.want, decodeJSON(t, out)); diff != "" {
				t.Errorf("decoded output of %s (-want +got):\n%s", out, diff)
			}
			prefix := []byte(`{"id":1}` + "\n")
			appended := tt.encode(bytes.Clone(prefix))
			if !bytes.HasPrefix(appended, prefix) || !bytes.Equal(appended[len(prefix):], out) {
				t.Errorf("appending to %q gave %q, want the prefix followed by %q", prefix, appended, out)
			}
		})
	}
}

// The push layout is the contract's example, byte for byte.
func TestAppendPushLayout(t *testing.T) {
	p := &Publication{Channel: "chat:lobby", Offset: 46, Epoch: "E", Data: []byte(`{"a":1}`), User: "alice",
		Time: 123, TraceParent: "00-aa-bb-01"}
	want := `{"push":"pub","channel":"chat:lobby","offset":46,"epoch":"E","data":{"a":1},"user":"alice"}`
	if got := string(AppendPush(nil, p)); got != want {
		t.Errorf("AppendPush = %s, want %s", got, want)
	}
}

func TestAppendPushAllocs(t *testing.T) {
	p := &Publication{Channel: "chat:lobby", Offset: 123456, Epoch: "epoch-1", Data: []byte(`{"text":"hello"}`), User: "alice"}
	dst := make([]byte, 0, 256)
	if n := testing.AllocsPerRun(100, func() { dst = AppendPush(dst[:0], p) }); n != 0 {
		t.Errorf("AppendPush into a buffer with room allocates %v times, want 0", n)
	}
}

func TestPublicationsMarshalJSON(t *testing.T) {
	a := &Publication{Channel: "c", Offset: 1, Epoch: "E", Data: []byte(`1`), User: "u"}
	b := &Publication{Channel: "c", Offset: 2, Epoch: "E", Data: []byte(`{"x":"<y>"}`)}
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"nil list is an empty array", Publications(nil), `[]`},
		{"empty list", Publications{}, `[]`},
		{"one", Publications{a}, `[{"channel":"c","offset":1,"epoch":"E","data":1,"user":"u"}]`},
		{"two in order", Publications{a, b},
			`[{"channel":"c","offset":1,"epoch":"E","data":1,"user":"u"},{"channel":"c","offset":2,"epoch":"E","data":{"x":"\u003cy\u003e"}}]`},
		{"history result without publications", HistoryResult{Offset: 0, Epoch: "E"},
			`{"offset":0,"epoch":"E","publications":[]}`},
		{"subscribe result without publications", SubscribeResult{Offset: 5, Epoch: "E"},
			`{"offset":5,"epoch":"E","recovered":false,"publications":[]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// json.Marshal compacts and HTML-escapes what MarshalJSON returns,
			// hence the \u003c in the want of "two in order".
			got, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if string(got) != tt.want {
				t.Errorf("json.Marshal = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want string // exact output
	}{
		{"empty", "", `""`},
		{"plain", "chat:lobby", `"chat:lobby"`},
		{"quote", `say "hi"`, `"say \"hi\""`},
		{"backslash", `a\b`, `"a\\b"`},
		{"newline, return, tab", "a\nb\rc\td", `"a\nb\rc\td"`},
		{"other control characters", "\x00\x01\x08\x0c\x1f", `"\u0000\u0001\u0008\u000c\u001f"`},
		{"DEL is not escaped", "\x7f", "\"\x7f\""},
		{"HTML characters are not escaped", "<a href='x'>&</a>", `"<a href='x'>&</a>"`},
		{"slash is not escaped", "a/b", `"a/b"`},
		{"unicode passes through", "héllo 日本 🎉", `"héllo 日本 🎉"`},
		{"line and paragraph separators pass through", "\u2028\u2029", "\"\u2028\u2029\""},
		{"literal U+FFFD passes through", "\uFFFD", "\"\uFFFD\""},
		{"invalid byte", "\xff", `"\ufffd"`},
		{"invalid byte inside text", "a\xffb", `"a\ufffdb"`},
		{"each invalid byte is replaced", "\xff\xfe", `"\ufffd\ufffd"`},
		{"truncated sequence", "a\xe2\x82", `"a\ufffd\ufffd"`},
		{"truncated sequence at the end", "\xc3", `"\ufffd"`},
		{"overlong encoding", "\xc0\xaf", `"\ufffd\ufffd"`},
		{"UTF-8 surrogate half", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"beyond U+10FFFF", "\xf4\x90\x80\x80", `"\ufffd\ufffd\ufffd\ufffd"`},
		{"escape after unicode", "é\"", `"é\""`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := AppendString(nil, tt.in)
			if string(got) != tt.want {
				t.Errorf("AppendString(%q) = %s, want %s", tt.in, got, tt.want)
			}
			// encoding/json differs in form (it escapes <, >, &, U+2028 and
			// uses \b, \f) but must agree on the decoded value.
			std, err := json.Marshal(tt.in)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			if g, w := decodeJSON(t, got), decodeJSON(t, std); g != w {
				t.Errorf("AppendString(%q) decodes to %q, encoding/json's output to %q", tt.in, g, w)
			}
		})
	}
}
