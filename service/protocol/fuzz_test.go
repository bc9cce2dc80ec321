package protocol

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// FuzzDecodeCommand feeds DecodeCommand arbitrary lines. Its seeds are in
// testdata/fuzz/FuzzDecodeCommand; the Makefile's short fuzz run uses this name.
func FuzzDecodeCommand(f *testing.F) {
	f.Fuzz(func(t *testing.T, line []byte) {
		c, err := DecodeCommand(line)
		if err != nil {
			if err.Code != CodeBadRequest {
				t.Fatalf("DecodeCommand(%q) error code %q, want %q", line, err.Code, CodeBadRequest)
			}
			// The error reply echoes what it could read; it must stay valid JSON.
			if reply := AppendError(nil, c.ID, err); !json.Valid(reply) {
				t.Fatalf("error reply for %q is not valid JSON: %s", line, reply)
			}
			return
		}
		checkCommand(t, line, c)

		// What the server accepted survives a round trip through encoding/json.
		b, merr := json.Marshal(c)
		if merr != nil {
			t.Fatalf("json.Marshal(%+v): %v", c, merr)
		}
		again, err := DecodeCommand(b)
		if err != nil {
			t.Fatalf("re-encoded command %s does not decode: %v", b, err)
		}
		if diff := cmp.Diff(c, again, cmp.Comparer(sameJSON)); diff != "" {
			t.Fatalf("round trip of %q through %s (-first +second):\n%s", line, b, diff)
		}
	})
}

// checkCommand asserts what DecodeCommand promises of a command it accepts.
func checkCommand(t *testing.T, line []byte, c Command) {
	t.Helper()
	if !slices.Contains(Ops, c.Op) || c.Op == OpInvalid {
		t.Fatalf("DecodeCommand(%q) accepted op %q", line, c.Op)
	}
	if c.ID == 0 {
		t.Fatalf("DecodeCommand(%q) accepted id 0", line)
	}
	switch c.Op {
	case OpSubscribe, OpUnsubscribe, OpPresence, OpHistory, OpPublish:
		if !ValidChannel(c.Channel) {
			t.Fatalf("DecodeCommand(%q) accepted %s on channel %q", line, c.Op, c.Channel)
		}
	}
	switch c.Op {
	case OpPublish:
		if !json.Valid(c.Data) {
			t.Fatalf("DecodeCommand(%q) accepted publish data %q", line, c.Data)
		}
		if len(c.IdempotencyKey) > MaxIdempotencyKeyLen {
			t.Fatalf("DecodeCommand(%q) accepted a %d-byte idempotency key", line, len(c.IdempotencyKey))
		}
	case OpHistory:
		if c.Limit < 0 {
			t.Fatalf("DecodeCommand(%q) accepted limit %d", line, c.Limit)
		}
	case OpRefresh:
		if c.Token == "" {
			t.Fatalf("DecodeCommand(%q) accepted refresh without a token", line)
		}
	}
}

// sameJSON reports whether two raw JSON values mean the same: json.Marshal
// compacts and HTML-escapes a RawMessage, so bytes may differ.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	va, erra := decodeAny(a)
	vb, errb := decodeAny(b)
	return erra == nil && errb == nil && cmp.Equal(va, vb)
}

func decodeAny(b []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // exact, and no overflow on 1e400
	var v any
	err := dec.Decode(&v)
	return v, err
}

// FuzzAppendString checks that any string, valid UTF-8 or not, encodes as
// valid JSON and valid UTF-8 that decodes to the string itself (when valid)
// or to what encoding/json makes of it.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `"\`, "\x00\n\r\t\x1f\x7f", "<>&", "日本🎉", "\u2028", "\xff", "a\xe2\x82", "\xed\xa0\x80"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		prefix := []byte("x")
		out := AppendString(prefix, s)
		if out[0] != 'x' {
			t.Fatalf("AppendString overwrote dst: %q", out)
		}
		out = out[1:]
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("AppendString(%q) = %q: not valid JSON in valid UTF-8", s, out)
		}
		var got string
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("AppendString(%q) = %q does not decode: %v", s, out, err)
		}
		if utf8.ValidString(s) && got != s {
			t.Fatalf("AppendString(%q) decodes to %q", s, got)
		}
		std, _ := json.Marshal(s) // a string always marshals
		var want string
		if err := json.Unmarshal(std, &want); err != nil {
			t.Fatalf("decode encoding/json's %q: %v", std, err)
		}
		if got != want {
			t.Fatalf("AppendString(%q) decodes to %q, encoding/json's output to %q", s, got, want)
		}
	})
}
