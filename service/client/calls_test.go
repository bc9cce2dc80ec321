package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/client"
)

func TestCallbacksMayMakeCalls(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	opts := rec.options(srv.url)
	var c *client.Client
	fromCallback := make(chan error, 1)
	opts.OnConnected = func(client.ConnectInfo) {
		_, err := c.Publish(context.Background(), "a", "from a callback", "")
		fromCallback <- err
	}
	c = client.New(opts)
	start(t, c)
	fc := srv.accept(t)
	if err := <-fromCallback; err != nil {
		t.Fatalf("Publish from OnConnected: %v", err)
	}
	expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "publish", Channel: "a", Data: json.RawMessage(`"from a callback"`)})
}

func TestCallsRoundTrip(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"presence": func(fakeCmd) string {
			return `"result":{"users":[{"user":"alice","client":"c1","node":"n1"}]}`
		},
		"history": func(fakeCmd) string {
			return `"result":{"offset":9,"epoch":"e1","publications":[{"channel":"a","offset":4,"epoch":"e1","data":{"n":4},"user":"bob"}]}`
		},
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1")
	ctx := t.Context()

	pos, err := c.Publish(ctx, "a", map[string]string{"text": "hi"}, "key-1")
	if err != nil || pos != (client.Position{Offset: 7, Epoch: "e1"}) {
		t.Errorf("Publish = %+v, %v; want {7 e1}, nil", pos, err)
	}
	if _, err := c.Publish(ctx, "a", json.RawMessage("[1, 2]"), ""); err != nil {
		t.Errorf("Publish raw: %v", err)
	}
	if _, err := c.Publish(ctx, "a", json.RawMessage("{bad"), ""); err == nil {
		t.Error("Publish of invalid raw JSON succeeded")
	}
	users, err := c.Presence(ctx, "a")
	if diff := cmp.Diff([]client.PresenceEntry{{User: "alice", Client: "c1", Node: "n1"}}, users); err != nil || diff != "" {
		t.Errorf("Presence: err %v, diff (-want +got):\n%s", err, diff)
	}
	hist, err := c.History(ctx, "a", u64(3), 2)
	want := client.HistoryResult{Offset: 9, Epoch: "e1", Publications: []client.Publication{
		{Channel: "a", Offset: 4, Epoch: "e1", Data: json.RawMessage(`{"n":4}`), User: "bob"},
	}}
	if diff := cmp.Diff(want, hist); err != nil || diff != "" {
		t.Errorf("History: err %v, diff (-want +got):\n%s", err, diff)
	}
	expectCmds(t, fc,
		fakeCmd{Op: "connect"},
		fakeCmd{Op: "publish", Channel: "a", Data: json.RawMessage(`{"text":"hi"}`), IdempotencyKey: "key-1"},
		fakeCmd{Op: "publish", Channel: "a", Data: json.RawMessage(`[1,2]`)},
		fakeCmd{Op: "presence", Channel: "a"},
		fakeCmd{Op: "history", Channel: "a", Since: u64(3), Limit: 2})
}

func TestSubscribeRefusedReturnsServerErrorAndForgets(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(fakeCmd) string { return `"error":{"code":"permission_denied","message":"nope"}` },
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1")

	err := c.Subscribe(t.Context(), "secret")
	var e *client.Error
	if !errors.As(err, &e) || e.Code != client.CodePermissionDenied {
		t.Fatalf("Subscribe = %v, want *Error permission_denied", err)
	}
	fc.close(client.CloseRestart, "")
	rec.expect(t, "disconnected 1012 reconnect=true", "connected c1")
	fc2 := srv.accept(t)
	expectCmds(t, fc2, fakeCmd{Op: "connect"})
	if _, err := c.Publish(t.Context(), "x", 1, ""); err != nil { // a marker after connect
		t.Fatal(err)
	}
	expectCmds(t, fc2, fakeCmd{Op: "publish", Channel: "x", Data: json.RawMessage("1")}) // no subscribe before it
}

func TestUnsubscribeStopsDeliveryAndResubscription(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	_ = c.Subscribe(t.Context(), "a")
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1", "subscribed a 0 e1 recovered=false was_recovering=false")
	if err := c.Unsubscribe(t.Context(), "a"); err != nil {
		t.Fatal(err)
	}
	expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "subscribe", Channel: "a"}, fakeCmd{Op: "unsubscribe", Channel: "a"})
	fc.send(pub("a", 1, "e1", "1", "")) // in flight when the unsubscribe was sent
	if _, ok := c.Position("a"); ok {
		t.Error("Position known after Unsubscribe")
	}
	fc.close(client.CloseRestart, "")
	rec.expect(t, "disconnected 1012 reconnect=true", "connected c1") // and no pub
	fc2 := srv.accept(t)
	if _, err := c.Publish(t.Context(), "x", 1, ""); err != nil {
		t.Fatal(err)
	}
	expectCmds(t, fc2, fakeCmd{Op: "connect"}, fakeCmd{Op: "publish", Channel: "x", Data: json.RawMessage("1")})
}

func TestCallsWithoutConnection(t *testing.T) {
	c := client.New(client.Options{URL: "ws://127.0.0.1:1/ws"})
	if _, err := c.Publish(t.Context(), "a", 1, ""); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("Publish before Start: %v, want ErrNotConnected", err)
	}
	if _, err := c.History(t.Context(), "a", nil, 0); !errors.Is(err, client.ErrNotConnected) {
		t.Errorf("History before Start: %v, want ErrNotConnected", err)
	}
	if err := c.Subscribe(t.Context(), "a"); err != nil {
		t.Errorf("Subscribe before Start: %v, want nil (remembered)", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	waitDone(t, c)
	if _, err := c.Presence(t.Context(), "a"); !errors.Is(err, client.ErrClosed) {
		t.Errorf("Presence after Close: %v, want ErrClosed", err)
	}
	c.Start(t.Context()) // does nothing after Close
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseSendsNormalClosure(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	c.Start(t.Context())
	fc := srv.accept(t)
	rec.expect(t, "connected c1")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if code := <-fc.closed; code != client.CloseNormal {
		t.Errorf("server saw close %d, want 1000", code)
	}
	rec.expect(t, "disconnected 1000 reconnect=false")
	waitDone(t, c)
}

func TestStartContextEndStopsTheClient(t *testing.T) {
	srv := newFakeServer(t, nil)
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	ctx, cancel := context.WithCancel(t.Context())
	c.Start(ctx)
	srv.accept(t)
	rec.expect(t, "connected c1")
	cancel()
	rec.expect(t, "disconnected 1000 reconnect=false")
	waitDone(t, c)
}

func TestDialFailuresKeepRetryingUntilClose(t *testing.T) {
	rec := newRecorder()
	c := client.New(rec.options("ws://127.0.0.1:1/ws")) // nothing listens
	c.Start(t.Context())
	rec.expect(t, "disconnected 1006 reconnect=true", "disconnected 1006 reconnect=true")
	_ = c.Close()
	var last string
	for len(rec.events) > 0 { // Close returns after the last callback
		last = <-rec.events
	}
	if last != "disconnected 1000 reconnect=false" {
		t.Errorf("last event %q, want the final disconnect with reconnect=false", last)
	}
}
