package protocol

import (
	"strings"
	"testing"
)

// TestDecodeCommandIsStrict: one reading of a command, the same for every
// JSON parser a message may cross (see strict).
func TestDecodeCommandIsStrict(t *testing.T) {
	tests := []struct {
		name    string
		line    string
		wantID  uint64 // the id the error reply echoes
		wantMsg string // part of the error message
	}{
		{"duplicate id", `{"id":7,"op":"ping","id":8}`, 8, `duplicate field "id"`},
		{"duplicate op", `{"id":7,"op":"subscribe","channel":"a","op":"unsubscribe"}`, 7, `duplicate field "op"`},
		{"duplicate channel", `{"id":7,"op":"publish","channel":"a","channel":"b","data":1}`, 7, `duplicate field "channel"`},
		{"duplicate key inside data", `{"id":7,"op":"publish","channel":"c","data":{"a":1,"a":2}}`, 7, `duplicate field "data.a"`},
		{"duplicate unknown field", `{"id":7,"op":"ping","x":1,"x":2}`, 7, `duplicate field "x"`},
		{"wrongly cased id is unknown, so id is missing", `{"ID":7,"op":"ping"}`, 0, "id must be a positive integer"},
		{"wrongly cased op is unknown, so op is missing", `{"id":7,"Op":"ping"}`, 7, "op is missing"},
		{"wrongly cased channel is unknown", `{"id":7,"op":"subscribe","Channel":"chat:a"}`, 7, "invalid channel name"},
		{"wrongly cased data is unknown", `{"id":7,"op":"publish","channel":"c","DATA":1}`, 7, "publish needs data"},
		{"trailing garbage", `{"id":7,"op":"ping"} x`, 0, "invalid JSON"},
		{"trailing second object", `{"id":7,"op":"ping"}{"id":8,"op":"ping"}`, 0, "invalid JSON"},
		{"wrong type names the field", `{"id":7,"op":"history","channel":"c","limit":"10"}`, 7, `field "limit" has the wrong type`},
		{"invalid UTF-8 in a string", "{\"id\":7,\"op\":\"publish\",\"channel\":\"c\",\"data\":\"\xff\"}", 7, "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCommand([]byte(tt.line))
			if err == nil {
				t.Fatalf("DecodeCommand(%s) = %+v, want a bad_request error", tt.line, got)
			}
			if err.Code != CodeBadRequest || !strings.Contains(err.Message, tt.wantMsg) {
				t.Errorf("DecodeCommand(%s) error = %+v, want bad_request containing %q", tt.line, err, tt.wantMsg)
			}
			if got.ID != tt.wantID {
				t.Errorf("DecodeCommand(%s) echoes id %d, want %d", tt.line, got.ID, tt.wantID)
			}
		})
	}
}

func TestCompactData(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"already compact", `{"a":[1,2]}`, `{"a":[1,2]}`},
		{"pretty-printed", "{\n  \"a\": [\n    1,\n    2\n  ]\n}", `{"a":[1,2]}`},
		{"strings and escapes kept as sent", `[ "x  y" , "\u00e9\n<&>" ]`, `["x  y","\u00e9\n<&>"]`},
		{"numbers kept as sent", `[ 1.50 , 1e3, -0 ]`, `[1.50,1e3,-0]`},
		{"scalar with spaces around", `  null `, `null`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CompactData([]byte(tt.in))
			if err != nil || string(got) != tt.want {
				t.Errorf("CompactData(%s) = %s, %v; want %s", tt.in, got, err, tt.want)
			}
		})
	}
	if _, err := CompactData([]byte(`{"a":`)); err == nil {
		t.Error("CompactData accepted invalid JSON")
	}
}
