package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wsgateway/wsgateway/service/client"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The wire vectors and the close-code policy every client library reads
// (service/protocol/testdata/README.md).
const (
	vectorsFile = "../protocol/testdata/vectors.json"
	policyFile  = "../protocol/testdata/close_policy.json"
)

type vector struct {
	Name  string `json:"name"`
	Line  string `json:"line"`
	Error string `json:"error"`
	Op    string `json:"op"`
}

type vectors struct {
	Commands, Replies, Errors, Pushes []vector
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func readVectors(t *testing.T) vectors {
	t.Helper()
	var v vectors
	readJSON(t, vectorsFile, &v)
	return v
}

// resultBody turns a reply line into what a fake handler answers: the line
// without its id, which the fake server writes itself.
func resultBody(t *testing.T, line string) string {
	t.Helper()
	var m protocol.Message
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatal(err)
	}
	prefix := fmt.Sprintf(`{"id":%d,`, m.ID)
	if !strings.HasPrefix(line, prefix) {
		t.Fatalf("%s does not start with %s", line, prefix)
	}
	return strings.TrimSuffix(strings.TrimPrefix(line, prefix), "}")
}

// TestCommandVectorsAreWhatTheClientSends: for every accepted command vector
// of an op the client sends, the call that means it sends a command that
// reads the same. ping and refresh the client does not send.
func TestCommandVectorsAreWhatTheClientSends(t *testing.T) {
	for _, v := range readVectors(t).Commands {
		if v.Error != "" {
			continue
		}
		t.Run(v.Name, func(t *testing.T) {
			cmd, perr := protocol.DecodeCommand([]byte(v.Line))
			if perr != nil {
				t.Fatal(perr)
			}
			var want fakeCmd
			if err := json.Unmarshal([]byte(v.Line), &want); err != nil {
				t.Fatal(err)
			}
			got, ok := sendAsClient(t, cmd)
			if !ok {
				t.Skipf("the Go client never sends %s", cmd.Op)
			}
			if (cmd.Op == protocol.OpPublish || cmd.Op == protocol.OpSend) && want.IdempotencyKey == "" {
				got.IdempotencyKey = "" // generated: the client always sends one
			}
			if diff := cmp.Diff(want, got, ignoreIDs); diff != "" {
				t.Errorf("the client sent (-vector +sent):\n%s", diff)
			}
		})
	}
}

// sendAsClient makes the client call that sends cmd, and returns the
// command the server received; ok is false for ops the client never sends.
func sendAsClient(t *testing.T, cmd protocol.Command) (fakeCmd, bool) {
	srv := newFakeServer(t, map[string]handler{
		"presence": func(fakeCmd) string { return `"result":{"users":[],"count":0}` },
		"history":  func(fakeCmd) string { return `"result":{"offset":0,"epoch":"e1","publications":[]}` },
		"rpc":      func(fakeCmd) string { return `"result":{"data":null}` },
		"send":     func(fakeCmd) string { return `"result":{"id":"orders/0/1-0","duplicate":false}` },
	})
	connected := make(chan struct{}, 1)
	opts := client.Options{URL: srv.url, OnConnected: func(client.ConnectInfo) { connected <- struct{}{} }}
	if cmd.Token != "" {
		opts.Token = func(context.Context) (string, error) { return cmd.Token, nil }
	}
	c := client.New(opts)
	start(t, c)
	fc := srv.accept(t)
	first := fc.next(t)
	<-connected
	ctx := t.Context()
	var err error
	switch cmd.Op {
	case protocol.OpConnect:
		return first, true
	case protocol.OpSubscribe:
		switch {
		case cmd.Recover:
			err = c.SubscribeFrom(ctx, cmd.Channel, cmd.Offset, cmd.Epoch)
		case cmd.Data != nil:
			_, err = c.SubscribeWithData(ctx, cmd.Channel, json.RawMessage(cmd.Data))
		default:
			err = c.Subscribe(ctx, cmd.Channel)
		}
	case protocol.OpUnsubscribe:
		err = errors.Join(c.Subscribe(ctx, cmd.Channel), c.Unsubscribe(ctx, cmd.Channel))
		fc.next(t) // the subscribe
	case protocol.OpPublish:
		_, err = c.Publish(ctx, cmd.Channel, json.RawMessage(cmd.Data), cmd.IdempotencyKey)
	case protocol.OpPresence:
		_, err = c.PresenceCount(ctx, cmd.Channel, cmd.Limit)
	case protocol.OpHistory:
		_, err = c.History(ctx, cmd.Channel, cmd.Since, cmd.Limit)
	case protocol.OpRPC:
		var data any
		if cmd.Data != nil {
			data = json.RawMessage(cmd.Data)
		}
		_, err = c.RPC(ctx, cmd.Method, data)
	case protocol.OpSend:
		_, err = c.Send(ctx, cmd.Topic, json.RawMessage(cmd.Data), client.SendOptions{IdempotencyKey: cmd.IdempotencyKey})
	default:
		return fakeCmd{}, false
	}
	if err != nil {
		t.Fatalf("%s: %v", cmd.Op, err)
	}
	return fc.next(t), true
}

// TestReplyVectorsDecode: the client reads every result vector of the calls
// it makes into the values the vector holds.
func TestReplyVectorsDecode(t *testing.T) {
	for _, v := range readVectors(t).Replies {
		t.Run(v.Name, func(t *testing.T) {
			body := resultBody(t, v.Line)
			var res struct{ Result json.RawMessage }
			if err := json.Unmarshal([]byte(v.Line), &res); err != nil {
				t.Fatal(err)
			}
			got, want := callWithReply(t, v.Op, body, res.Result)
			if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("decoded (-vector +client):\n%s", diff)
			}
		})
	}
}

// callWithReply has a fake server answer op with body, and returns what
// the client made of it and what the vector's result says.
func callWithReply(t *testing.T, op, body string, result json.RawMessage) (got, want any) {
	srv := newFakeServer(t, map[string]handler{op: func(fakeCmd) string { return body }})
	infos := make(chan client.ConnectInfo, 1)
	subs := make(chan client.SubscribedEvent, 1)
	var pubs []client.Publication
	c := client.New(client.Options{
		URL:           srv.url,
		OnConnected:   func(i client.ConnectInfo) { infos <- i },
		OnPublication: func(p client.Publication) { pubs = append(pubs, p) },
		OnSubscribed:  func(e client.SubscribedEvent) { subs <- e },
	})
	start(t, c)
	srv.accept(t)
	info := <-infos
	ctx := t.Context()
	var err error
	switch op {
	case protocol.OpConnect:
		got, want = info, decode[client.ConnectInfo](t, result)
	case protocol.OpSubscribe:
		err = c.SubscribeFrom(ctx, "chat:lobby", 43, "5f1d3c9a0b7e2468")
		e := <-subs // after the publications it recovered
		r := decode[protocol.SubscribeResult](t, result)
		got = []any{e.Offset, e.Epoch, e.Recovered, pubs, e.Data}
		want = []any{r.Offset, r.Epoch, r.Recovered, clientPubs(r.Publications), r.Data}
	case protocol.OpPublish:
		got, err = c.Publish(ctx, "chat:lobby", 1, "")
		want = decode[client.Position](t, result)
	case protocol.OpPresence:
		got, err = c.PresenceCount(ctx, "chat:lobby", 0)
		want = decode[client.PresenceResult](t, result)
	case protocol.OpHistory:
		got, err = c.History(ctx, "chat:lobby", nil, 0)
		r := decode[protocol.HistoryResult](t, result)
		want = client.HistoryResult{Offset: r.Offset, Epoch: r.Epoch, Publications: clientPubs(r.Publications), Truncated: r.Truncated}
	case protocol.OpUnsubscribe:
		err = errors.Join(c.Subscribe(ctx, "chat:lobby"), c.Unsubscribe(ctx, "chat:lobby"))
	case protocol.OpRPC:
		got, err = c.RPC(ctx, "billing:charge", nil)
		want = decode[protocol.RPCResult](t, result).Data
	case protocol.OpSend:
		got, err = c.Send(ctx, "orders", 1, client.SendOptions{})
		want = decode[client.SendResult](t, result)
	default:
		t.Skipf("the Go client never sends %s", op)
	}
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
	return got, want
}

func decode[T any](t *testing.T, b []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("decode %s as %T: %v", b, v, err)
	}
	return v
}

// clientPubs is what the client delivers for publications of a result
// (nil for none: the test's callback appends).
func clientPubs(ps protocol.Publications) []client.Publication {
	var out []client.Publication
	for _, p := range ps {
		out = append(out, client.Publication{Channel: p.Channel, Offset: p.Offset, Epoch: p.Epoch, Data: p.Data, User: p.User})
	}
	return out
}

// TestErrorVectorsBecomeErrors: every error reply with an id fails the
// call with a *client.Error holding its code and message.
func TestErrorVectorsBecomeErrors(t *testing.T) {
	for _, v := range readVectors(t).Errors {
		var m protocol.Message
		if err := json.Unmarshal([]byte(v.Line), &m); err != nil {
			t.Fatal(err)
		}
		if m.ID == 0 {
			continue // answers no call
		}
		t.Run(v.Name, func(t *testing.T) {
			body := resultBody(t, v.Line)
			srv := newFakeServer(t, map[string]handler{"history": func(fakeCmd) string { return body }})
			rec := newRecorder()
			c := client.New(rec.options(srv.url))
			start(t, c)
			srv.accept(t)
			rec.expect(t, "connected c1")
			_, err := c.History(t.Context(), "chat:lobby", nil, 0)
			var e *client.Error
			if !errors.As(err, &e) || e.Code != m.Error.Code || e.Message != m.Error.Message {
				t.Errorf("History answered %s: %v, want a *client.Error %+v", v.Line, err, *m.Error)
			}
		})
	}
}

// TestPushVectorsAreDelivered: every publication push reaches
// OnPublication with its values, every unsub push OnUnsubscribed, every
// reply push OnReply, every join and leave push OnJoin or OnLeave.
func TestPushVectorsAreDelivered(t *testing.T) {
	for _, v := range readVectors(t).Pushes {
		t.Run(v.Name, func(t *testing.T) {
			if strings.HasPrefix(v.Line, protocol.ReplyPushPrefix) {
				testReplyPush(t, v.Line)
				return
			}
			if strings.HasPrefix(v.Line, `{"push":"join",`) || strings.HasPrefix(v.Line, `{"push":"leave",`) {
				testJoinLeavePush(t, v.Line)
				return
			}
			var m protocol.Message
			if err := json.Unmarshal([]byte(v.Line), &m); err != nil {
				t.Fatal(err)
			}
			srv := newFakeServer(t, nil)
			rec := newRecorder()
			c := client.New(rec.options(srv.url))
			_ = c.Subscribe(t.Context(), m.Channel)
			start(t, c)
			fc := srv.accept(t)
			expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "subscribe", Channel: m.Channel})
			rec.expect(t, "connected c1", "subscribed "+m.Channel+" 0 e1 recovered=false was_recovering=false")
			fc.send(v.Line)
			switch m.Push {
			case protocol.PushPub:
				rec.expect(t, fmt.Sprintf("pub %s %d %s %s %s", m.Channel, m.Offset, m.Epoch, m.Data, m.User))
			case protocol.PushUnsub:
				// insufficient_state is not reported: the client recovers.
				if cmd := fc.next(t); cmd.Op != "subscribe" || !cmd.Recover || cmd.Channel != m.Channel {
					t.Errorf("after %s the client sent %+v, want a recovering subscribe", v.Line, cmd)
				}
			default:
				t.Fatalf("unknown push %q", m.Push)
			}
		})
	}
}

// testReplyPush: a reply push reaches OnReply with its id and data or error.
func testReplyPush(t *testing.T, line string) {
	var want protocol.ReplyPush
	if err := json.Unmarshal([]byte(line), &want); err != nil {
		t.Fatal(err)
	}
	srv := newFakeServer(t, nil)
	replies := make(chan client.Reply, 1)
	connected := make(chan struct{}, 1)
	c := client.New(client.Options{URL: srv.url, OnReply: func(r client.Reply) { replies <- r },
		OnConnected: func(client.ConnectInfo) { connected <- struct{}{} }})
	start(t, c)
	fc := srv.accept(t)
	<-connected
	fc.send(line)
	select {
	case r := <-replies:
		if r.ID != want.ID || string(r.Data) != string(want.Data) || (r.Err == nil) != (want.Error == nil) ||
			r.Err != nil && (r.Err.Code != want.Error.Code || r.Err.Message != want.Error.Message) {
			t.Errorf("OnReply got %+v, want %+v", r, want)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no OnReply within 5 s")
	}
}

// testJoinLeavePush: a join or leave push reaches OnJoin or OnLeave.
func testJoinLeavePush(t *testing.T, line string) {
	var want protocol.Message
	if err := json.Unmarshal([]byte(line), &want); err != nil {
		t.Fatal(err)
	}
	srv := newFakeServer(t, nil)
	got := make(chan string, 1)
	connected := make(chan struct{}, 1)
	c := client.New(client.Options{URL: srv.url,
		OnJoin:      func(j client.JoinLeave) { got <- "join " + j.Channel + " " + j.User + " " + j.Client },
		OnLeave:     func(j client.JoinLeave) { got <- "leave " + j.Channel + " " + j.User + " " + j.Client },
		OnConnected: func(client.ConnectInfo) { connected <- struct{}{} }})
	start(t, c)
	fc := srv.accept(t)
	<-connected
	fc.send(line)
	select {
	case g := <-got:
		if w := want.Push + " " + want.Channel + " " + want.User + " " + want.Client; g != w {
			t.Errorf("callback got %q, want %q", g, w)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no callback within 5 s")
	}
}
