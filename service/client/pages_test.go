package client_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/client"
)

// TestPagedResults: the client passes presence's limit and reads the
// fields the server adds when it caps a reply: presence's count and
// truncated, history's truncated.
func TestPagedResults(t *testing.T) {
	srv := newFakeServer(t, map[string]handler{
		"presence": func(fakeCmd) string {
			return `"result":{"users":[{"user":"alice","client":"c1","node":"n1"}],"count":2000,"truncated":true}`
		},
		"history": func(fakeCmd) string {
			return `"result":{"offset":9,"epoch":"e1","publications":[],"truncated":true}`
		},
	})
	rec := newRecorder()
	c := client.New(rec.options(srv.url))
	start(t, c)
	fc := srv.accept(t)
	rec.expect(t, "connected c1")
	ctx := t.Context()

	pres, err := c.PresenceCount(ctx, "a", 1)
	want := client.PresenceResult{Users: []client.PresenceEntry{{User: "alice", Client: "c1", Node: "n1"}}, Count: 2000, Truncated: true}
	if diff := cmp.Diff(want, pres); err != nil || diff != "" {
		t.Errorf("PresenceCount: err %v, diff (-want +got):\n%s", err, diff)
	}
	hist, err := c.History(ctx, "a", nil, 0)
	if err != nil || !hist.Truncated {
		t.Errorf("History = %+v, %v; want Truncated", hist, err)
	}
	expectCmds(t, fc,
		fakeCmd{Op: "connect"},
		fakeCmd{Op: "presence", Channel: "a", Limit: 1},
		fakeCmd{Op: "history", Channel: "a"})
}
