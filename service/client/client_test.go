package client_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/wsgateway/wsgateway/service/client"
)

// ignoreIDs compares commands without the ids the client chose.
var ignoreIDs = cmpopts.IgnoreFields(fakeCmd{}, "ID", "Frame")

func u64(n uint64) *uint64 { return &n }

// start starts c and closes it when the test ends.
func start(t *testing.T, c *client.Client) {
	t.Helper()
	c.Start(t.Context())
	t.Cleanup(func() { _ = c.Close() })
}

// numberedTokens returns a Token func giving tok1, tok2, ...
func numberedTokens() func(context.Context) (string, error) {
	var n atomic.Int32
	return func(context.Context) (string, error) { return fmt.Sprintf("tok%d", n.Add(1)), nil }
}

// expectCmds waits for len(want) commands on fc and compares them.
func expectCmds(t *testing.T, fc *fakeConn, want ...fakeCmd) []fakeCmd {
	t.Helper()
	got := make([]fakeCmd, len(want))
	for i := range want {
		got[i] = fc.next(t)
		if got[i].Op == "publish" && want[i].IdempotencyKey == "" {
			// Publish generates a key when given none: it must be there.
			if got[i].IdempotencyKey == "" {
				t.Fatalf("publish %d sent without an idempotency key", i)
			}
			got[i].IdempotencyKey = ""
		}
	}
	if diff := cmp.Diff(want, got, ignoreIDs); diff != "" {
		t.Fatalf("commands (-want +got):\n%s", diff)
	}
	return got
}

func waitDone(t *testing.T, c *client.Client) {
	t.Helper()
	select {
	case <-c.Done():
	case <-time.After(within):
		t.Fatal("Done not closed")
	}
}

func TestSubscribeDeliversRecoveredThenLivePublicationsOnce(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(fakeCmd) string {
			return `"result":{"offset":2,"epoch":"e1","recovered":false,"publications":[` +
				`{"channel":"chat:a","offset":1,"epoch":"e1","data":{"n":1}},` +
				`{"channel":"chat:a","offset":2,"epoch":"e1","data":{"n":2},"user":"bob"}]}`
		},
	})
	rec := newRecorder()
	opts := rec.options(srv.url)
	opts.Token = func(context.Context) (string, error) { return "tok", nil }
	c := client.New(opts)
	if err := c.Subscribe(t.Context(), "chat:a"); err != nil {
		t.Fatalf("Subscribe before Start: %v", err)
	}
	start(t, c)

	fc := srv.accept(t)
	if fc.subprotocol != "wsgateway.v1" {
		t.Errorf("subprotocol %q, want wsgateway.v1", fc.subprotocol)
	}
	expectCmds(t, fc, fakeCmd{Op: "connect", Token: "tok"}, fakeCmd{Op: "subscribe", Channel: "chat:a"})
	rec.expect(t, "connected c1",
		`pub chat:a 1 e1 {"n":1} `, `pub chat:a 2 e1 {"n":2} bob`,
		"subscribed chat:a 2 e1 recovered=false was_recovering=false")

	// Two frames: duplicates (offset 2, then 3 again) are dropped, and so is
	// a channel that is not subscribed.
	fc.send(pub("chat:a", 3, "e1", `{"n":3}`, "bob"), pub("chat:a", 2, "e1", `{"n":2}`, "bob"))
	fc.send(pub("chat:a", 3, "e1", `{"n":3}`, "bob"), pub("chat:other", 1, "e1", `1`, ""), pub("chat:a", 4, "e1", `"four"`, ""))
	rec.expect(t, `pub chat:a 3 e1 {"n":3} bob`, `pub chat:a 4 e1 "four" `)

	if pos, ok := c.Position("chat:a"); !ok || pos != (client.Position{Offset: 4, Epoch: "e1"}) {
		t.Errorf("Position = %+v, %t; want {4 e1}, true", pos, ok)
	}
}

func TestBatchedFrameKeepsOrderAcrossPushKinds(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	for _, ch := range []string{"a", "b"} {
		_ = c.Subscribe(t.Context(), ch)
	}
	start(t, c)
	fc := srv.accept(t)
	cmds := expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "subscribe", Channel: "a"}, fakeCmd{Op: "subscribe", Channel: "b"})
	if cmds[1].Frame != cmds[2].Frame {
		t.Errorf("resubscriptions came in frames %d and %d, want one frame", cmds[1].Frame, cmds[2].Frame)
	}
	rec.expect(t, "connected c1", "subscribed a 0 e1 recovered=false was_recovering=false", "subscribed b 0 e1 recovered=false was_recovering=false")

	fc.send(
		pub("a", 1, "e1", `{"s":"x,\"user\":\"y"}`, ""),
		pub("b", 1, "e1", `[1, 2]`, `x"y`), // user with an escape: the slow path
		`{"push":"unsub","channel":"a","reason":"kicked"}`,
		pub("b", 2, "e1", `null`, "bob"),
	)
	rec.expect(t, `pub a 1 e1 {"s":"x,\"user\":\"y"} `, `pub b 1 e1 [1, 2] x"y`, "unsubscribed a kicked", "pub b 2 e1 null bob")

	if pos, ok := c.Position("a"); !ok || pos.Offset != 1 {
		t.Errorf("Position(a) after unsub = %+v, %t; want offset 1 kept", pos, ok)
	}
	if err := c.Subscribe(t.Context(), "a"); err != nil {
		t.Fatalf("Subscribe again after unsub: %v", err)
	}
	expectCmds(t, fc, fakeCmd{Op: "subscribe", Channel: "a"})
}

func TestRecoveryFailedMovesToServerPosition(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(fakeCmd) string {
			return `"result":{"offset":10,"epoch":"e2","recovered":false,"publications":[]}`
		},
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	if err := c.SubscribeFrom(t.Context(), "a", 4, "e1"); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	fc := srv.accept(t)
	expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "subscribe", Channel: "a", Recover: true, Offset: u64(4), Epoch: "e1"})
	rec.expect(t, "connected c1", "subscribed a 10 e2 recovered=false was_recovering=true", "recovery_failed a")
	if pos, _ := c.Position("a"); pos != (client.Position{Offset: 10, Epoch: "e2"}) {
		t.Errorf("Position = %+v, want {10 e2}", pos)
	}
	fc.send(pub("a", 11, "e2", "11", ""))
	rec.expect(t, "pub a 11 e2 11 ")
}

func TestPendingCallFailsWhenConnectionIsLost(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{"history": func(fakeCmd) string { return "" }})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1")
	errc := make(chan error, 1)
	go func() {
		_, err := c.History(t.Context(), "a", nil, 0)
		errc <- err
	}()
	expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "history", Channel: "a"})
	fc.close(client.CloseRestart, "")
	if err := <-errc; !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("History across a disconnect: %v, want ErrNotConnected", err)
	}
}

func TestInsufficientStateResubscribesWithRecovery(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(c fakeCmd) string {
			if c.Recover {
				pubs := `{"channel":"a","offset":2,"epoch":"e1","data":2},{"channel":"a","offset":3,"epoch":"e1","data":3}`
				if *c.Offset == 0 { // as a server would: everything after the offset asked for
					pubs = `{"channel":"a","offset":1,"epoch":"e1","data":1},` + pubs
				}
				return `"result":{"offset":3,"epoch":"e1","recovered":true,"publications":[` + pubs + `]}`
			}
			return `"result":{"offset":0,"epoch":"e1","recovered":false,"publications":[]}`
		},
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	if err := c.Subscribe(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	start(t, c)
	fc := srv.accept(t)
	expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "subscribe", Channel: "a"})
	rec.expect(t, "connected c1", "subscribed a 0 e1 recovered=false was_recovering=false")
	fc.send(pub("a", 1, "e1", "1", ""), `{"push":"unsub","channel":"a","reason":"insufficient_state"}`)
	// The resubscription may leave before pub 1 reached the position (it is
	// applied by the event goroutine): recovering from 0 or 1 are both right,
	// and pub 1 must still be delivered exactly once.
	if cmd := fc.next(t); cmd.Op != "subscribe" || !cmd.Recover || cmd.Epoch != "e1" || *cmd.Offset > 1 {
		t.Fatalf("after insufficient_state got %+v, want subscribe with recover from offset <= 1", cmd)
	}
	rec.expect(t, "pub a 1 e1 1 ", "pub a 2 e1 2 ", "pub a 3 e1 3 ", "subscribed a 3 e1 recovered=true was_recovering=true")
}
