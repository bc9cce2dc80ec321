package protocol

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// vector is one example line of testdata/vectors.json (see its README).
type vector struct {
	Name    string `json:"name"`
	Meaning string `json:"meaning"`
	Line    string `json:"line"`
	Error   string `json:"error"`  // commands: the code DecodeCommand answers, "" when it accepts
	Op      string `json:"op"`     // replies: the command answered
	Answer  string `json:"answer"` // api: what the body is
}

type vectors struct {
	Commands []vector `json:"commands"`
	Replies  []vector `json:"replies"`
	Errors   []vector `json:"errors"`
	Pushes   []vector `json:"pushes"`
	API      []vector `json:"api"`
}

func readVectors(t *testing.T) vectors {
	t.Helper()
	b, err := os.ReadFile("testdata/vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v vectors
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("testdata/vectors.json: %v", err)
	}
	for _, list := range [][]vector{v.Commands, v.Replies, v.Errors, v.Pushes, v.API} {
		for _, vec := range list {
			if vec.Name == "" || vec.Meaning == "" || vec.Line == "" {
				t.Errorf("vector %+v lacks a name, a meaning or a line", vec)
			}
		}
	}
	return v
}

// runVectors runs check on each vector as a subtest. check returns what
// the vector shows (an op, an error code, a push kind); every kind in want
// must be shown by one.
func runVectors(t *testing.T, list []vector, want []string, check func(t *testing.T, v vector) (kind string)) {
	t.Helper()
	shown := map[string]bool{}
	for _, v := range list {
		t.Run(v.Name, func(t *testing.T) { shown[check(t, v)] = true })
	}
	for _, k := range want {
		if !shown[k] {
			t.Errorf("no vector shows %q", k)
		}
	}
}

// clientOps are the ops a client sends, each of which needs a vector.
func clientOps() []string {
	var ops []string
	for _, op := range Ops {
		if op != OpInvalid {
			ops = append(ops, op)
		}
	}
	return ops
}

// TestCommandVectors: every command vector decodes with the server's decoder
// as it says (accepted, or refused with its code), and an accepted one
// survives the client's encoder (Command.MarshalJSON) unchanged.
func TestCommandVectors(t *testing.T) {
	runVectors(t, readVectors(t).Commands, clientOps(), func(t *testing.T, v vector) string {
		cmd, perr := DecodeCommand([]byte(v.Line))
		if v.Error != "" {
			if perr == nil || perr.Code != v.Error {
				t.Fatalf("DecodeCommand(%s) = %v, want error %s", v.Line, perr, v.Error)
			}
			return ""
		}
		if perr != nil {
			t.Fatalf("DecodeCommand(%s): %v", v.Line, perr)
		}
		b, err := json.Marshal(cmd)
		if err != nil {
			t.Fatal(err)
		}
		again, perr := DecodeCommand(b)
		if perr != nil {
			t.Fatalf("DecodeCommand(%s) of the re-encoded command: %v", b, perr)
		}
		if diff := cmp.Diff(cmd, again); diff != "" {
			t.Errorf("re-encoded as %s, which decodes otherwise (-vector +re-encoded):\n%s", b, diff)
		}
		return cmd.Op
	})
}

// TestReplyVectors: every reply vector is byte for byte what the server's
// encoder of its op writes for the decoded result.
func TestReplyVectors(t *testing.T) {
	runVectors(t, readVectors(t).Replies, clientOps(), func(t *testing.T, v vector) string {
		m := decodeMessage(t, v.Line)
		if m.ID == 0 || m.Result == nil {
			t.Fatalf("%s is no result reply", v.Line)
		}
		sameBytes(t, encodeReply(t, v.Op, m), v.Line)
		return v.Op
	})
}

// encodeReply decodes m's result as op's result type and encodes the reply
// with the encoder the session uses for op.
func encodeReply(t *testing.T, op string, m Message) []byte {
	t.Helper()
	switch op {
	case OpConnect:
		return AppendReply(nil, m.ID, decodeAs[ConnectResult](t, m.Result))
	case OpSubscribe:
		return AppendSubscribeReply(nil, m.ID, decodeAs[SubscribeResult](t, m.Result))
	case OpHistory:
		return AppendHistoryReply(nil, m.ID, decodeAs[HistoryResult](t, m.Result))
	case OpPresence:
		return AppendReply(nil, m.ID, decodeAs[PresenceResult](t, m.Result))
	case OpPublish:
		return AppendReply(nil, m.ID, decodeAs[Position](t, m.Result))
	case OpRPC:
		return AppendReply(nil, m.ID, decodeAs[RPCResult](t, m.Result))
	case OpSend:
		return AppendSendReply(nil, m.ID, decodeAs[SendResult](t, m.Result))
	case OpUnsubscribe, OpPing, OpRefresh:
		decodeAs[struct{}](t, m.Result)
		return AppendResult(nil, m.ID, []byte("{}"))
	}
	t.Fatalf("no encoder for op %q", op)
	return nil
}

// TestErrorVectors: every error reply is what AppendError writes, and every
// error code has one.
func TestErrorVectors(t *testing.T) {
	runVectors(t, readVectors(t).Errors, ErrorCodes, func(t *testing.T, v vector) string {
		m := decodeMessage(t, v.Line)
		if m.Error == nil {
			t.Fatalf("%s is no error reply", v.Line)
		}
		sameBytes(t, AppendError(nil, m.ID, m.Error), v.Line)
		return m.Error.Code
	})
}

// TestPushVectors: every push is what AppendPush, AppendUnsub or
// AppendReplyPush writes.
func TestPushVectors(t *testing.T) {
	runVectors(t, readVectors(t).Pushes, []string{PushPub, PushUnsub, PushReply, PushJoin, PushLeave}, func(t *testing.T, v vector) string {
		if strings.HasPrefix(v.Line, ReplyPushPrefix) {
			r := decodeAs[ReplyPush](t, []byte(v.Line))
			sameBytes(t, AppendReplyPush(nil, r.ID, r.Data, r.Error), v.Line)
			return r.Push
		}
		m := decodeMessage(t, v.Line)
		switch m.Push {
		case PushPub:
			sameBytes(t, AppendPush(nil, &Publication{Channel: m.Channel, Offset: m.Offset, Epoch: m.Epoch, Data: m.Data, User: m.User}), v.Line)
		case PushUnsub:
			sameBytes(t, AppendUnsub(nil, m.Channel, m.Reason), v.Line)
		case PushJoin, PushLeave:
			sameBytes(t, AppendJoinLeave(nil, m.Push, m.Channel, m.User, m.Client), v.Line)
		default:
			t.Fatalf("unknown push %q", m.Push)
		}
		return m.Push
	})
}

// sameBytes fails t unless the server encoded the vector's line exactly.
func sameBytes(t *testing.T, got []byte, line string) {
	t.Helper()
	if string(got) != line {
		t.Errorf("the server encodes\n%s\nwant\n%s", got, line)
	}
}

// nodesAnswer mirrors the API's nodes answer, which the server encodes with
// MarshalResult from a type of its own.
type nodesAnswer struct {
	Nodes    []NodeInfo `json:"nodes"`
	Degraded bool       `json:"degraded"`
}

// TestAPIVectors: every API answer is what MarshalResult (or, for errors,
// AppendError) writes for the decoded value.
func TestAPIVectors(t *testing.T) {
	answers := []string{"position", "history", "presence", "nodes", "error"}
	runVectors(t, readVectors(t).API, answers, func(t *testing.T, v vector) string {
		raw := []byte(v.Line)
		var got []byte
		var err error
		switch v.Answer {
		case "position":
			got, err = MarshalResult(decodeAs[Position](t, raw))
		case "history":
			got, err = MarshalResult(decodeAs[HistoryResult](t, raw))
		case "presence":
			got, err = MarshalResult(decodeAs[PresenceResult](t, raw))
		case "nodes":
			got, err = MarshalResult(decodeAs[nodesAnswer](t, raw))
		case "error":
			got = AppendError(nil, 0, decodeMessage(t, v.Line).Error)
		default:
			t.Fatalf("unknown answer %q", v.Answer)
		}
		if err != nil {
			t.Fatal(err)
		}
		sameBytes(t, got, v.Line)
		return v.Answer
	})
}

// decodeMessage decodes a server line as a client does, refusing fields
// Message does not know: a vector must not carry what no client reads.
func decodeMessage(t *testing.T, line string) Message {
	t.Helper()
	return decodeAs[Message](t, []byte(line))
}

func decodeAs[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s as %T: %v", b, v, err)
	}
	return v
}
