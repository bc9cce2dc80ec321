package client_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/wsgateway/wsgateway/service/client"
)

// TestSubscribeWithData: the data goes with the subscribe and with the
// resubscription after a reconnect; the hook's data comes back from the call
// and in the SubscribedEvent.
func TestSubscribeWithData(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"subscribe": func(cmd fakeCmd) string {
			return `"result":{"offset":0,"epoch":"e1","recovered":false,"publications":[],"data":{"echo":` + string(cmd.Data) + `}}`
		},
	})
	events := make(chan client.SubscribedEvent, 4)
	connected := make(chan struct{}, 4)
	c := client.New(client.Options{URL: srv.url, OnSubscribed: func(e client.SubscribedEvent) { events <- e },
		OnConnected: func(client.ConnectInfo) { connected <- struct{}{} }})
	start(t, c)
	fc := srv.accept(t)
	fc.next(t) // connect
	<-connected

	got, err := c.SubscribeWithData(t.Context(), "game:t", map[string]int{"seat": 3})
	if err != nil || string(got) != `{"echo":{"seat":3}}` {
		t.Fatalf("SubscribeWithData = %s, %v; want the hook's data", got, err)
	}
	if cmd := fc.next(t); string(cmd.Data) != `{"seat":3}` {
		t.Errorf("subscribe sent data %s", cmd.Data)
	}
	if e := <-events; string(e.Data) != `{"echo":{"seat":3}}` {
		t.Errorf("SubscribedEvent.Data = %s", e.Data)
	}

	fc.close(1012, "restart")
	fc = srv.accept(t)
	fc.next(t) // connect
	if cmd := fc.next(t); cmd.Op != "subscribe" || !cmd.Recover || string(cmd.Data) != `{"seat":3}` {
		t.Errorf("resubscription %+v, want a recovering subscribe with the same data", cmd)
	}
	if e := <-events; !e.WasRecovering || string(e.Data) != `{"echo":{"seat":3}}` {
		t.Errorf("SubscribedEvent after the reconnect %+v", e)
	}
	if _, err := c.SubscribeWithData(t.Context(), "bad:x", func() {}); err == nil {
		t.Error("SubscribeWithData of data encoding/json refuses succeeded")
	}
}

// TestRPC: the method and data go out, the answer's data comes back, and a
// refusal is an *Error with the server's code.
func TestRPC(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"rpc": func(cmd fakeCmd) string {
			if cmd.Method == "shop:buy" {
				return `"error":{"code":"not_found","message":"no rpc method"}`
			}
			return `"result":{"data":{"got":` + string(cmd.Data) + `}}`
		},
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1")

	got, err := c.RPC(t.Context(), "billing:charge", map[string]int{"amount": 5})
	if err != nil || string(got) != `{"got":{"amount":5}}` {
		t.Fatalf("RPC = %s, %v", got, err)
	}
	fc.next(t) // connect
	if cmd := fc.next(t); cmd.Op != "rpc" || cmd.Method != "billing:charge" || string(cmd.Data) != `{"amount":5}` {
		t.Errorf("sent %+v", cmd)
	}
	_, err = c.RPC(t.Context(), "shop:buy", nil)
	var e *client.Error
	if !errors.As(err, &e) || e.Code != client.CodeNotFound {
		t.Errorf("RPC of an unserved method: %v, want an *Error not_found", err)
	}
	if cmd := fc.next(t); cmd.Data != nil {
		t.Errorf("an rpc without data sent data %s", cmd.Data)
	}
	if _, err := c.RPC(t.Context(), "billing:x", json.RawMessage("{bad")); err == nil {
		t.Error("RPC with invalid raw JSON succeeded")
	}
}
