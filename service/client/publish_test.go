package client_test

import (
	"encoding/json"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/wsgateway/wsgateway/service/client"
)

// TestPublishRetriesWithItsKey: a publish whose outcome is unknown is sent
// again with the same idempotency key, the caller's or a generated one,
// until it gets an answer: after unavailable, and after the connection was
// lost before the reply. The gateway answers a repeated key with the first
// publication's position, so the retries publish once.
func TestPublishRetriesWithItsKey(t *testing.T) {
	cases := []struct {
		name, key string
		lose      bool // the first attempt's connection is lost instead of answered
	}{
		{name: "unavailable, caller's key", key: "order-17"},
		{name: "unavailable, generated key"},
		{name: "connection lost, generated key", lose: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var count atomic.Int32
			srv := newFakeServer(t, map[string]handler{"publish": func(fakeCmd) string {
				switch attempts := count.Add(1); {
				case attempts == 1 && tc.lose:
					return ""
				case attempts <= 2 && !tc.lose:
					return `"error":{"code":"unavailable","message":"redis"}`
				}
				return `"result":{"offset":7,"epoch":"e1"}`
			}})
			rec := newRecorder()
			c := client.New(rec.options(srv.url))
			start(t, c)
			fc := srv.accept(t)
			type answer struct {
				pos client.Position
				err error
			}
			done := make(chan answer, 1)
			go func() {
				pos, err := c.Publish(t.Context(), "a", 1, tc.key)
				done <- answer{pos, err}
			}()
			var sent []fakeCmd
			next := func(fc *fakeConn) fakeCmd {
				cmd := fc.next(t)
				for cmd.Op != "publish" {
					cmd = fc.next(t)
				}
				sent = append(sent, cmd)
				return cmd
			}
			next(fc)
			if tc.lose {
				fc.close(client.CloseRestart, "")
				next(srv.accept(t))
			} else {
				next(fc)
				next(fc)
			}
			got := <-done
			if got.err != nil || got.pos != (client.Position{Offset: 7, Epoch: "e1"}) {
				t.Fatalf("Publish = %+v, %v; want offset 7 in e1", got.pos, got.err)
			}
			for i, cmd := range sent {
				if cmd.IdempotencyKey == "" || cmd.IdempotencyKey != sent[0].IdempotencyKey ||
					(tc.key != "" && cmd.IdempotencyKey != tc.key) || string(cmd.Data) != "1" {
					t.Fatalf("attempt %d: %+v; want data 1 and the key of the first attempt %q (caller's: %q)",
						i+1, cmd, sent[0].IdempotencyKey, tc.key)
				}
			}
		})
	}
}

// TestPublishDoesNotRetryFinalErrors: an answer that says the publish was
// refused (permission_denied, bad_request) comes back at once.
func TestPublishDoesNotRetryFinalErrors(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{"publish": func(fakeCmd) string {
		return `"error":{"code":"permission_denied","message":"no"}`
	}})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	_, err := c.Publish(t.Context(), "a", json.RawMessage("1"), "")
	var e *client.Error
	if !errors.As(err, &e) || e.Code != client.CodePermissionDenied {
		t.Fatalf("Publish = %v, want permission_denied", err)
	}
	expectCmds(t, fc, fakeCmd{Op: "connect"}, fakeCmd{Op: "publish", Channel: "a", Data: json.RawMessage("1")})
}
