package client_test

import (
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/wsgateway/wsgateway/service/client"
)

func TestReconnectAfterRestartResubscribesWithRecovery(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(cmd fakeCmd) string {
			if !cmd.Recover {
				return `"result":{"offset":3,"epoch":"e1","recovered":false,"publications":[]}`
			}
			return fmt.Sprintf(`"result":{"offset":5,"epoch":"e1","recovered":true,"publications":[`+
				`{"channel":%q,"offset":5,"epoch":"e1","data":5}]}`, cmd.Channel)
		},
	})
	rec := newRecorder()
	opts := rec.options(srv.url)
	opts.Token = numberedTokens()
	c := client.New(opts)
	_ = c.Subscribe(t.Context(), "a")
	_ = c.Subscribe(t.Context(), "b")
	start(t, c)

	fc1 := srv.accept(t)
	expectCmds(t, fc1, fakeCmd{Op: "connect", Token: "tok1"}, fakeCmd{Op: "subscribe", Channel: "a"}, fakeCmd{Op: "subscribe", Channel: "b"})
	rec.expect(t, "connected c1", "subscribed a 3 e1 recovered=false was_recovering=false", "subscribed b 3 e1 recovered=false was_recovering=false")
	fc1.send(pub("a", 4, "e1", "4", ""))
	rec.expect(t, "pub a 4 e1 4 ")

	fc1.close(client.CloseRestart, "node draining")
	rec.expect(t, "disconnected 1012 reconnect=true")
	if code := <-fc1.closed; code != client.CloseRestart {
		t.Errorf("client answered the close with %d, want 1012", code)
	}

	fc2 := srv.accept(t)
	cmds := expectCmds(t, fc2,
		fakeCmd{Op: "connect", Token: "tok2"},
		fakeCmd{Op: "subscribe", Channel: "a", Recover: true, Offset: u64(4), Epoch: "e1"},
		fakeCmd{Op: "subscribe", Channel: "b", Recover: true, Offset: u64(3), Epoch: "e1"})
	if cmds[1].Frame != cmds[2].Frame {
		t.Errorf("resubscriptions came in frames %d and %d, want one frame", cmds[1].Frame, cmds[2].Frame)
	}
	rec.expect(t, "connected c1",
		"pub a 5 e1 5 ", "subscribed a 5 e1 recovered=true was_recovering=true",
		"pub b 5 e1 5 ", "subscribed b 5 e1 recovered=true was_recovering=true")
}

func TestResubscribeRefusedGivesUpOrRetries(t *testing.T) {
	var bRefusals atomic.Int32
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(cmd fakeCmd) string {
			switch {
			case !cmd.Recover:
				return `"result":{"offset":0,"epoch":"e1","recovered":false,"publications":[]}`
			case cmd.Channel == "a":
				return `"error":{"code":"permission_denied","message":"nope"}`
			case bRefusals.Add(1) == 1:
				return `"error":{"code":"unavailable","message":"redis down"}`
			}
			return `"result":{"offset":0,"epoch":"e1","recovered":true,"publications":[]}`
		},
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	_ = c.Subscribe(t.Context(), "a")
	_ = c.Subscribe(t.Context(), "b")
	start(t, c)
	fc1 := srv.accept(t)
	rec.expect(t, "connected c1", "subscribed a 0 e1 recovered=false was_recovering=false", "subscribed b 0 e1 recovered=false was_recovering=false")
	fc1.close(client.CloseGoingAway, "")
	rec.expect(t, "disconnected 1001 reconnect=true")

	fc2 := srv.accept(t)
	rec.expect(t, "connected c1",
		"unsubscribed a resubscribe refused: wsgateway: permission_denied: nope",
		"subscribed b 0 e1 recovered=true was_recovering=true")
	expectCmds(t, fc2, fakeCmd{Op: "connect"},
		fakeCmd{Op: "subscribe", Channel: "a", Recover: true, Offset: u64(0), Epoch: "e1"},
		fakeCmd{Op: "subscribe", Channel: "b", Recover: true, Offset: u64(0), Epoch: "e1"},
		fakeCmd{Op: "subscribe", Channel: "b", Recover: true, Offset: u64(0), Epoch: "e1"})

	fc2.close(client.CloseGoingAway, "")
	rec.expect(t, "disconnected 1001 reconnect=true")
	fc3 := srv.accept(t)
	expectCmds(t, fc3, fakeCmd{Op: "connect"}, fakeCmd{Op: "subscribe", Channel: "b", Recover: true, Offset: u64(0), Epoch: "e1"})
}

// policyCodes reads the close-code policy every library follows: the codes
// its rules name, both ends of each range, by whether the client stays
// closed. 1006 is left out: it is never sent in a close frame
// (TestNetworkDropReconnects covers it).
func policyCodes(t *testing.T) (stayClosed, reconnect []int) {
	t.Helper()
	var policy struct {
		Rules []struct {
			From, To int
			Action   string
		}
	}
	readJSON(t, policyFile, &policy)
	for _, r := range policy.Rules {
		for _, code := range slices.Compact([]int{r.From, r.To}) {
			switch {
			case code == client.CloseAbnormal:
			case r.Action == "stay_closed":
				stayClosed = append(stayClosed, code)
			case r.Action == "reconnect" || r.Action == "new_token":
				reconnect = append(reconnect, code)
			default:
				t.Fatalf("close code %d: unknown action %q", code, r.Action)
			}
		}
	}
	if len(stayClosed) == 0 || len(reconnect) == 0 {
		t.Fatalf("%s names no codes", policyFile)
	}
	return stayClosed, reconnect
}

func TestTerminalCloseCodesStopForGood(t *testing.T) {
	stayClosed, _ := policyCodes(t)
	for _, code := range stayClosed {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newFakeServer(t, nil)
			rec := newRecorder()
			c := client.New(rec.options(srv.url))
			start(t, c)
			fc := srv.accept(t)
			rec.expect(t, "connected c1")
			fc.close(code, "bye")
			rec.expect(t, fmt.Sprintf("disconnected %d reconnect=false", code))
			waitDone(t, c)
			select {
			case <-srv.conns:
				t.Error("client reconnected after a terminal close code")
			default:
			}
			if err := c.Subscribe(t.Context(), "a"); !errors.Is(err, client.ErrClosed) {
				t.Errorf("Subscribe after stop: %v, want ErrClosed", err)
			}
		})
	}
}

// TestOtherCloseCodesReconnectWithNewToken: the client asks Options.Token
// before every connect, so new_token and reconnect differ only for clients
// that keep their token.
func TestOtherCloseCodesReconnectWithNewToken(t *testing.T) {
	_, reconnect := policyCodes(t)
	for _, code := range append(reconnect, 4000, 4099) { // and codes no rule names
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			srv := newFakeServer(t, nil)
			rec := newRecorder()
			opts := rec.options(srv.url)
			opts.Token = numberedTokens()
			c := client.New(opts)
			start(t, c)
			fc := srv.accept(t)
			expectCmds(t, fc, fakeCmd{Op: "connect", Token: "tok1"})
			rec.expect(t, "connected c1")
			fc.close(code, "")
			rec.expect(t, fmt.Sprintf("disconnected %d reconnect=true", code), "connected c1")
			expectCmds(t, srv.accept(t), fakeCmd{Op: "connect", Token: "tok2"})
		})
	}
}

func TestNetworkDropReconnects(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1")
	_ = fc.ws.UnderlyingConn().Close() // no close frame
	rec.expect(t, "disconnected 1006 reconnect=true", "connected c1")
	srv.accept(t)
}

func TestConnectRefusedReconnectsWithNewToken(t *testing.T) {
	srv := newFakeServerAfter(t, map[string]handler{
		"connect": func(cmd fakeCmd) string {
			if cmd.Token == "tok1" {
				return `"error":{"code":"unauthorized","message":"token expired"}`
			}
			return `"result":{"client":"c2","user":"alice","node":"n1","zone":"z1","ping_interval":25}`
		},
	}, func(fc *fakeConn, cmd fakeCmd) {
		if cmd.Op == "connect" && cmd.Token == "tok1" {
			fc.close(client.CloseUnauthorized, "unauthorized")
		}
	})
	rec := newRecorder()
	opts := rec.options(srv.url)
	opts.Token = numberedTokens()
	var disc atomic.Pointer[client.DisconnectEvent]
	opts.OnDisconnected = func(e client.DisconnectEvent) {
		disc.Store(&e)
		rec.add("disconnected %d reconnect=%t", e.Code, e.Reconnect)
	}
	c := client.New(opts)
	start(t, c)
	expectCmds(t, srv.accept(t), fakeCmd{Op: "connect", Token: "tok1"})
	rec.expect(t, "disconnected 4001 reconnect=true", "connected c2")
	var e *client.Error
	if err := disc.Load().Err; !errors.As(err, &e) || e.Code != client.CodeUnauthorized {
		t.Errorf("DisconnectEvent.Err = %v, want the connect error (unauthorized)", err)
	}
	expectCmds(t, srv.accept(t), fakeCmd{Op: "connect", Token: "tok2"})
}

func TestLargeResubscriptionIsPacedUnderTheCommandRate(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	const channels = 130 // more than the first burst of 100
	for i := range channels {
		_ = c.Subscribe(t.Context(), fmt.Sprintf("ch%03d", i))
	}
	start(t, c)
	fc := srv.accept(t)
	if cmd := fc.next(t); cmd.Op != "connect" {
		t.Fatalf("first command %q, want connect", cmd.Op)
	}
	frames := map[int]int{} // frame -> subscribes in it
	var order []int
	for range channels {
		cmd := fc.next(t)
		if frames[cmd.Frame] == 0 {
			order = append(order, cmd.Frame)
		}
		frames[cmd.Frame]++
	}
	if frames[order[0]] != 100 || len(order) != 2 || frames[order[1]] != 30 {
		t.Errorf("subscribes per frame in order %v: %v; want 100 at once, then the other 30", order, frames)
	}
}
