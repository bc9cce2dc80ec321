package protocol

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestDecodeCommandValid(t *testing.T) {
	zero, five := uint64(0), uint64(5)
	key128 := strings.Repeat("k", MaxIdempotencyKeyLen)
	tests := []struct {
		name string
		line string
		want Command
	}{
		{"connect with token", `{"id":1,"op":"connect","token":"t.o.k"}`,
			Command{ID: 1, Op: OpConnect, Token: "t.o.k"}},
		{"connect without token", `{"id":1,"op":"connect"}`,
			Command{ID: 1, Op: OpConnect}},
		{"subscribe", `{"id":2,"op":"subscribe","channel":"chat:lobby"}`,
			Command{ID: 2, Op: OpSubscribe, Channel: "chat:lobby"}},
		{"subscribe with recovery", `{"id":2,"op":"subscribe","channel":"chat:lobby","recover":true,"offset":46,"epoch":"E"}`,
			Command{ID: 2, Op: OpSubscribe, Channel: "chat:lobby", Recover: true, Offset: 46, Epoch: "E"}},
		{"subscribe with data", `{"id":2,"op":"subscribe","channel":"game:t","data":{ "seat": 3 }}`,
			Command{ID: 2, Op: OpSubscribe, Channel: "game:t", Data: json.RawMessage(`{"seat":3}`)}},
		{"rpc", `{"id":9,"op":"rpc","method":"billing:charge","data":[1, 2]}`,
			Command{ID: 9, Op: OpRPC, Method: "billing:charge", Data: json.RawMessage(`[1,2]`)}},
		{"rpc without data", `{"id":9,"op":"rpc","method":"billing"}`,
			Command{ID: 9, Op: OpRPC, Method: "billing"}},
		{"unsubscribe", `{"id":3,"op":"unsubscribe","channel":"user:alice"}`,
			Command{ID: 3, Op: OpUnsubscribe, Channel: "user:alice"}},
		{"publish object", `{"id":4,"op":"publish","channel":"c","data":{"text":"hi"}}`,
			Command{ID: 4, Op: OpPublish, Channel: "c", Data: json.RawMessage(`{"text":"hi"}`)}},
		{"publish null data is data", `{"id":4,"op":"publish","channel":"c","data":null}`,
			Command{ID: 4, Op: OpPublish, Channel: "c", Data: json.RawMessage(`null`)}},
		{"publish string data", `{"id":4,"op":"publish","channel":"c","data":"x"}`,
			Command{ID: 4, Op: OpPublish, Channel: "c", Data: json.RawMessage(`"x"`)}},
		{"publish compacts data, strings untouched", `{"id":4,"op":"publish","channel":"c","data": { "a" : [1, 2], "s": "x  y\u0041<" } }`,
			Command{ID: 4, Op: OpPublish, Channel: "c", Data: json.RawMessage(`{"a":[1,2],"s":"x  y\u0041<"}`)}},
		{"publish with longest idempotency key", `{"id":4,"op":"publish","channel":"c","data":1,"idempotency_key":"` + key128 + `"}`,
			Command{ID: 4, Op: OpPublish, Channel: "c", Data: json.RawMessage(`1`), IdempotencyKey: key128}},
		{"presence", `{"id":5,"op":"presence","channel":"c"}`,
			Command{ID: 5, Op: OpPresence, Channel: "c"}},
		{"history latest", `{"id":6,"op":"history","channel":"c","limit":10}`,
			Command{ID: 6, Op: OpHistory, Channel: "c", Limit: 10}},
		{"history since zero is set", `{"id":6,"op":"history","channel":"c","since":0}`,
			Command{ID: 6, Op: OpHistory, Channel: "c", Since: &zero}},
		{"history since null is unset", `{"id":6,"op":"history","channel":"c","since":null}`,
			Command{ID: 6, Op: OpHistory, Channel: "c"}},
		{"history since and limit", `{"id":6,"op":"history","channel":"c","since":5,"limit":0}`,
			Command{ID: 6, Op: OpHistory, Channel: "c", Since: &five}},
		{"ping", `{"id":7,"op":"ping"}`, Command{ID: 7, Op: OpPing}},
		{"refresh", `{"id":8,"op":"refresh","token":"t"}`, Command{ID: 8, Op: OpRefresh, Token: "t"}},
		{"largest id", `{"id":18446744073709551615,"op":"ping"}`, Command{ID: 1<<64 - 1, Op: OpPing}},
		{"unknown fields are ignored", `{"id":7,"op":"ping","future":{"x":[1]},"v":2}`, Command{ID: 7, Op: OpPing}},
		{"fields of other ops are kept but unchecked", `{"id":7,"op":"ping","channel":"bad channel","limit":-1}`,
			Command{ID: 7, Op: OpPing, Channel: "bad channel", Limit: -1}},
		{"surrounding whitespace", " \t{\"id\":7,\"op\":\"ping\"}\r\n", Command{ID: 7, Op: OpPing}},
		{"field order does not matter", `{"op":"ping","id":7}`, Command{ID: 7, Op: OpPing}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCommand([]byte(tt.line))
			if err != nil {
				t.Fatalf("DecodeCommand(%s) error %v, want none", tt.line, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("DecodeCommand(%s) (-want +got):\n%s", tt.line, diff)
			}
		})
	}
}

func TestDecodeCommandInvalid(t *testing.T) {
	tests := []struct {
		name   string
		line   string
		wantID uint64 // the id the error reply can echo; 0: unreadable
	}{
		{"empty", ``, 0},
		{"truncated JSON", `{"id":7,"op":"ping"`, 0},
		{"trailing garbage", `{"id":7,"op":"ping"} x`, 0},
		{"two objects on one line", `{"id":7,"op":"ping"}{"id":8,"op":"ping"}`, 0},
		{"not JSON", `ping`, 0},
		{"array", `[{"id":7,"op":"ping"}]`, 0},
		{"string", `"ping"`, 0},
		{"number", `7`, 0},
		{"null", `null`, 0},
		{"empty object", `{}`, 0},
		{"missing id", `{"op":"ping"}`, 0},
		{"zero id", `{"id":0,"op":"ping"}`, 0},
		{"negative id", `{"id":-7,"op":"ping"}`, 0},
		{"float id", `{"id":7.5,"op":"ping"}`, 0},
		{"integral float id", `{"id":7.0,"op":"ping"}`, 0},
		{"exponent id", `{"id":7e1,"op":"ping"}`, 0},
		{"string id", `{"id":"7","op":"ping"}`, 0},
		{"null id", `{"id":null,"op":"ping"}`, 0},
		{"id over 64 bits", `{"id":18446744073709551616,"op":"ping"}`, 0},
		{"unknown op", `{"id":7,"op":"dance"}`, 7},
		{"op case matters", `{"id":7,"op":"PING"}`, 7},
		{"missing op", `{"id":7}`, 7},
		{"empty op", `{"id":7,"op":""}`, 7},
		{"op is a number", `{"id":7,"op":1}`, 7},
		{"channel is a number", `{"id":7,"op":"subscribe","channel":5}`, 7},
		{"wrong type before the id", `{"channel":5,"id":7,"op":"subscribe"}`, 7},
		{"recover is a string", `{"id":7,"op":"subscribe","channel":"c","recover":"yes"}`, 7},
		{"offset is negative", `{"id":7,"op":"subscribe","channel":"c","recover":true,"offset":-1}`, 7},
		{"token is an object", `{"id":7,"op":"connect","token":{}}`, 7},
		{"since is negative", `{"id":7,"op":"history","channel":"c","since":-1}`, 7},
		{"limit is a string", `{"id":7,"op":"history","channel":"c","limit":"10"}`, 7},
		{"limit is negative", `{"id":7,"op":"history","channel":"c","limit":-1}`, 7},
		{"subscribe without channel", `{"id":7,"op":"subscribe"}`, 7},
		{"subscribe to empty channel", `{"id":7,"op":"subscribe","channel":""}`, 7},
		{"subscribe to channel with a space", `{"id":7,"op":"subscribe","channel":"chat lobby"}`, 7},
		{"subscribe to unicode channel", `{"id":7,"op":"subscribe","channel":"chät"}`, 7},
		{"subscribe to 256-byte channel", `{"id":7,"op":"subscribe","channel":"` + strings.Repeat("c", 256) + `"}`, 7},
		{"unsubscribe from invalid channel", `{"id":7,"op":"unsubscribe","channel":"a*"}`, 7},
		{"presence of invalid channel", `{"id":7,"op":"presence","channel":"a#b"}`, 7},
		{"history of invalid channel", `{"id":7,"op":"history","channel":""}`, 7},
		{"publish to invalid channel", `{"id":7,"op":"publish","channel":"a b","data":1}`, 7},
		{"publish without data", `{"id":7,"op":"publish","channel":"c"}`, 7},
		{"publish with invalid data", `{"id":7,"op":"publish","channel":"c","data":tru}`, 0},
		{"idempotency key too long", `{"id":7,"op":"publish","channel":"c","data":1,"idempotency_key":"` +
			strings.Repeat("k", MaxIdempotencyKeyLen+1) + `"}`, 7},
		{"refresh without token", `{"id":7,"op":"refresh"}`, 7},
		{"refresh with empty token", `{"id":7,"op":"refresh","token":""}`, 7},
		{"rpc without method", `{"id":7,"op":"rpc","data":1}`, 7},
		{"rpc with a space in the method", `{"id":7,"op":"rpc","method":"billing charge"}`, 7},
		{"rpc with a method that is a number", `{"id":7,"op":"rpc","method":5}`, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeCommand([]byte(tt.line))
			if err == nil {
				t.Fatalf("DecodeCommand(%s) = %+v, want a bad_request error", tt.line, got)
			}
			if err.Code != CodeBadRequest || err.Message == "" {
				t.Errorf("DecodeCommand(%s) error = %+v, want code %q with a message", tt.line, err, CodeBadRequest)
			}
			if got.ID != tt.wantID {
				t.Errorf("DecodeCommand(%s) recovered id %d, want %d", tt.line, got.ID, tt.wantID)
			}
		})
	}
}

func TestLines(t *testing.T) {
	tests := []struct {
		name  string
		frame string
		want  []string
	}{
		{"empty frame", "", nil},
		{"one line", `{"id":1}`, []string{`{"id":1}`}},
		{"several lines", "{\"id\":1}\n{\"id\":2}\n{\"id\":3}", []string{`{"id":1}`, `{"id":2}`, `{"id":3}`}},
		{"trailing newline", "{\"id\":1}\n", []string{`{"id":1}`}},
		{"leading newline", "\n{\"id\":1}", []string{`{"id":1}`}},
		{"blank lines are skipped", "\n\n{\"id\":1}\n\n\n{\"id\":2}\n\n", []string{`{"id":1}`, `{"id":2}`}},
		{"whitespace-only lines are skipped", " \n\t\n{\"id\":1}\n \r\n", []string{`{"id":1}`}},
		{"CRLF line ends", "{\"id\":1}\r\n{\"id\":2}\r\n", []string{`{"id":1}`, `{"id":2}`}},
		{"surrounding spaces are trimmed", "  {\"id\":1}  \n\t{\"id\":2}", []string{`{"id":1}`, `{"id":2}`}},
		{"only newlines", "\n\n\n", nil},
		{"a line is not parsed", "not json\n{", []string{"not json", "{"}},
		{"newline inside a JSON string splits it", "{\"a\":\"x\ny\"}", []string{`{"a":"x`, `y"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			Lines([]byte(tt.frame), func(line []byte) { got = append(got, string(line)) })
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Lines(%q) (-want +got):\n%s", tt.frame, diff)
			}
		})
	}
}
