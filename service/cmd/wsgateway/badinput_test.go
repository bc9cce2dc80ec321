package main

// End-to-end tests of malformed client input (contract section 2, "Invalid
// JSON, an unknown op, or a malformed field..."): a bad_request reply, with
// the id when it could be read, the connection left open, and close 1008
// after three malformed frames in a row.

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

func TestMalformedCommandGetsBadRequest(t *testing.T) {
	g := startNode(t, "--dev")
	long := strings.Repeat("a", 256)
	for _, tc := range []struct {
		name  string
		frame string
		id    uint64 // 0: the reply must have no id
	}{
		{"invalid JSON", `{"id":5,"op":`, 0},
		{"not JSON at all", `hello`, 0},
		{"JSON array", `[1,2]`, 0},
		{"JSON null", `null`, 0},
		{"unknown op", `{"id":5,"op":"dance"}`, 5},
		{"op missing", `{"id":5}`, 5},
		{"op not a string", `{"id":5,"op":7}`, 5},
		{"id missing", `{"op":"ping"}`, 0},
		{"id 0", `{"id":0,"op":"ping"}`, 0},
		{"negative id", `{"id":-3,"op":"ping"}`, 0},
		{"string id", `{"id":"5","op":"ping"}`, 0},
		{"fractional id", `{"id":1.5,"op":"ping"}`, 0},
		{"channel not a string", `{"id":5,"op":"subscribe","channel":5}`, 5},
		{"channel missing", `{"id":5,"op":"subscribe"}`, 5},
		{"empty channel", `{"id":5,"op":"subscribe","channel":""}`, 5},
		{"channel of 256 bytes", `{"id":5,"op":"subscribe","channel":"` + long + `"}`, 5},
		{"channel with a space", `{"id":5,"op":"subscribe","channel":"a b"}`, 5},
		{"channel with a non-ASCII letter", `{"id":5,"op":"subscribe","channel":"é"}`, 5},
		{"channel with a wildcard", `{"id":5,"op":"subscribe","channel":"chat:*"}`, 5},
		{"invalid channel on unsubscribe", `{"id":5,"op":"unsubscribe","channel":"a b"}`, 5},
		{"invalid channel on publish", `{"id":5,"op":"publish","channel":"a b","data":1}`, 5},
		{"invalid channel on presence", `{"id":5,"op":"presence","channel":""}`, 5},
		{"invalid channel on history", `{"id":5,"op":"history","channel":"é"}`, 5},
		{"publish without data", `{"id":5,"op":"publish","channel":"chat:a"}`, 5},
		{"idempotency_key over 128 bytes", `{"id":5,"op":"publish","channel":"chat:a","data":1,"idempotency_key":"` + strings.Repeat("k", 129) + `"}`, 5},
		{"idempotency_key not a string", `{"id":5,"op":"publish","channel":"chat:a","data":1,"idempotency_key":1}`, 5},
		{"negative limit", `{"id":5,"op":"history","channel":"chat:a","limit":-1}`, 5},
		{"limit not a number", `{"id":5,"op":"history","channel":"chat:a","limit":"2"}`, 5},
		{"since not a number", `{"id":5,"op":"history","channel":"chat:a","since":"x"}`, 5},
		{"negative since", `{"id":5,"op":"history","channel":"chat:a","since":-1}`, 5},
		{"recover not a boolean", `{"id":5,"op":"subscribe","channel":"chat:a","recover":"yes","offset":1,"epoch":"e"}`, 5},
		{"negative recover offset", `{"id":5,"op":"subscribe","channel":"chat:a","recover":true,"offset":-1,"epoch":"e"}`, 5},
		{"token not a string", `{"id":5,"op":"refresh","token":5}`, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := connected(t, g, "")
			w.send(tc.frame)
			raw := w.nextRaw(5 * time.Second)
			m := decode(t, raw)
			if code := errCode(m); code != "bad_request" {
				t.Fatalf("want a bad_request error, got %s", raw)
			}
			// Message cannot tell an id of 0 from none: read the id's presence
			// from the line itself.
			var has struct {
				ID *json.RawMessage `json:"id"`
			}
			if err := json.Unmarshal(raw, &has); err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.id == 0 && has.ID != nil:
				t.Errorf("reply %s has an id; want none (the id was not readable)", raw)
			case tc.id != 0 && m.ID != tc.id:
				t.Errorf("reply %s: id %d, want %d", raw, m.ID, tc.id)
			}
			if m.Result != nil {
				t.Errorf("error reply also has a result: %s", raw)
			}
			w.result(w.call(protocol.Command{Op: protocol.OpPing})) // still open
		})
	}
}

func TestMalformedFramesInARow(t *testing.T) {
	g := startNode(t, "--dev")
	const (
		bad       = `{"id":5,"op":"dance"}`
		good      = `{"id":6,"op":"ping"}`
		mixed     = `{"id":7,"op":"ping"}` + "\n" + `{not json`
		threeBad  = `{oops` + "\n" + `{"id":8}` + "\n" + `{"id":9,"op":"subscribe","channel":"a b"}`
		forbidden = `{"id":10,"op":"subscribe","channel":"user:bob"}` // permission_denied, not malformed
	)
	type frame struct {
		text    string
		replies int // lines the server answers the frame with
	}
	for _, tc := range []struct {
		name   string
		frames []frame
		closed bool // want close 1008 after the last frame
	}{
		{"three malformed frames close with 1008",
			[]frame{{bad, 1}, {bad, 1}, {bad, 1}}, true},
		{"two malformed frames leave it open",
			[]frame{{bad, 1}, {bad, 1}}, false},
		{"a good frame resets the count",
			[]frame{{bad, 1}, {bad, 1}, {good, 1}, {bad, 1}, {bad, 1}}, false},
		{"the count resumes after the reset",
			[]frame{{bad, 1}, {bad, 1}, {good, 1}, {bad, 1}, {bad, 1}, {bad, 1}}, true},
		{"a frame with one good and one bad command counts as malformed",
			[]frame{{bad, 1}, {bad, 1}, {mixed, 2}}, true},
		{"several malformed commands in one frame count once",
			[]frame{{threeBad, 3}, {bad, 1}}, false},
		{"an error that is not bad_request is not malformed",
			[]frame{{bad, 1}, {bad, 1}, {forbidden, 1}, {bad, 1}, {bad, 1}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := connected(t, g, "")
			for i, f := range tc.frames {
				w.send(f.text)
				for range f.replies {
					// good and the good half of mixed are answered;
					// everything else gets an error.
					m := w.next()
					if m.ID == 6 || m.ID == 7 {
						w.result(m)
					} else if m.Error == nil {
						t.Fatalf("frame %d: want an error reply, got %s", i+1, show(m))
					}
				}
			}
			if tc.closed {
				if code := w.closed(5 * time.Second); code != 1008 {
					t.Errorf("close code %d, want 1008", code)
				}
				return
			}
			w.result(w.call(protocol.Command{Op: protocol.OpPing}))
		})
	}
}
