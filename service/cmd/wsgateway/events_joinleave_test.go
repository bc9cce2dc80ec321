package main

import (
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestEventsJoinLeavePushes: with --join-leave-namespaces chat, a
// subscriber of chat:room on one node hears who joins and leaves it on
// another node (exact bytes), a connection is not told about itself, and a
// namespace not listed gets no pushes.
func TestEventsJoinLeavePushes(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	// In process (gateway.Run, as main runs it), so that -race watches the
	// pushes' way through the hub and the sessions. No --events: the
	// namespaces imply it (config.Load), and this test is the proof that
	// they do, end to end.
	nodes := startCluster(t, srv, []string{"node-a", "node-b"}, "--jwt-secret", testSecret, "--join-leave-namespaces", "chat")
	a, b := nodes[0], nodes[1]
	ann := connected(t, a, token(t, "ann", time.Hour, []string{"chat:room", "news:today"}, nil))
	bob, bobInfo := connectedAs(t, b, token(t, "bob", time.Hour, []string{"chat:room", "news:today"}, nil))
	ann.subscribeTo("chat:room")
	ann.subscribeTo("news:today")
	// Joining after ann's subscription is in place everywhere: the first
	// join push she gets is bob's.
	waitEvents(t, srv.Client(), 10*time.Second, "channel:chat:room", "channel.occupied", "presence.join")
	bob.subscribeTo("chat:room")
	bob.subscribeTo("news:today")

	wantLine := func(w *wsConn, want []byte) {
		t.Helper()
		if got := w.nextRaw(10 * time.Second); string(got) != string(want) {
			t.Fatalf("got %s, want %s", got, want)
		}
	}
	wantLine(ann, protocol.AppendJoinLeave(nil, protocol.PushJoin, "chat:room", "bob", bobInfo.Client))
	bob.unsubscribeFrom("chat:room")
	wantLine(ann, protocol.AppendJoinLeave(nil, protocol.PushLeave, "chat:room", "bob", bobInfo.Client))
	// bob heard nothing about himself, and news: is not listed.
	bob.quiet()
	ann.quiet()
}
