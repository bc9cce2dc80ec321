package session

import (
	"fmt"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/internal/auth"
)

func subscribeCmd(id int, ch string) string {
	return fmt.Sprintf(`{"id":%d,"op":"subscribe","channel":%q}`, id, ch)
}

func unsubscribeCmd(id int, ch string) string {
	return fmt.Sprintf(`{"id":%d,"op":"unsubscribe","channel":%q}`, id, ch)
}

func publishCmd(id int, ch string) string {
	return fmt.Sprintf(`{"id":%d,"op":"publish","channel":%q,"data":{"n":%d}}`, id, ch, id)
}

func historyCmd(id int, ch string) string {
	return fmt.Sprintf(`{"id":%d,"op":"history","channel":%q}`, id, ch)
}

func presenceCmd(id int, ch string) string {
	return fmt.Sprintf(`{"id":%d,"op":"presence","channel":%q}`, id, ch)
}

// TestCommands: what each command answers over a session on the in-process
// broker, and the publications a subscription pushes.
func TestCommands(t *testing.T) {
	cfg := Config{Dev: true, PingInterval: time.Hour, MaxSubscriptions: 2}
	connect := moment{at: 0, do: sends(connectCmd(1, "")), want: []string{"ok 1"}}
	subscribed := moment{at: time.Second, do: sends(subscribeCmd(2, "chat:a")), want: []string{"ok 2, 0 publications"}}
	for _, st := range []story{
		{name: "the first command must be connect", cfg: cfg, moments: []moment{
			{at: 0, do: sends(pingCmd(1), pingCmd(2)), want: []string{"error 1 unauthorized", "close 4001 unauthorized"}},
		}, code: "4001"},
		{name: "a second connect is refused", cfg: cfg, moments: []moment{
			connect, {at: time.Second, do: sends(connectCmd(2, "")), want: []string{"error 2 bad_request"}},
		}, code: "1006"},
		{name: "a publication reaches the subscriber before the publish reply", cfg: cfg, moments: []moment{
			connect, subscribed,
			{at: 2 * time.Second, do: sends(publishCmd(3, "chat:a"), publishCmd(4, "chat:b")),
				want: []string{"push pub chat:a 1", "ok 3", "ok 4"}},
			{at: 3 * time.Second, do: sends(historyCmd(5, "chat:a"), presenceCmd(6, "chat:a")),
				want: []string{"ok 5, 1 publications", "ok 6"}},
		}, code: "1006"},
		{name: "no push after unsubscribe", cfg: cfg, moments: []moment{
			connect, subscribed,
			{at: 2 * time.Second, do: sends(unsubscribeCmd(3, "chat:a"), publishCmd(4, "chat:a"), unsubscribeCmd(5, "chat:a")),
				want: []string{"ok 3", "ok 4", "ok 5"}},
		}, code: "1006"},
		{name: "subscribing twice is refused", cfg: cfg, moments: []moment{
			connect, subscribed,
			{at: 2 * time.Second, do: sends(subscribeCmd(3, "chat:a")), want: []string{"error 3 bad_request"}},
		}, code: "1006"},
		{name: "more subscriptions than allowed", cfg: cfg, moments: []moment{
			connect, subscribed,
			{at: 2 * time.Second, do: sends(subscribeCmd(3, "chat:b"), subscribeCmd(4, "chat:c")),
				want: []string{"ok 3, 0 publications", "error 4 too_many_subscriptions"}},
			{at: 3 * time.Second, do: sends(unsubscribeCmd(5, "chat:a"), subscribeCmd(6, "chat:c")),
				want: []string{"ok 5", "ok 6, 0 publications"}},
		}, code: "1006"},
	} {
		tell(t, st)
	}
}

// TestCommandPermissions: a token's subscribe and publish claims decide
// what its connection may do; a token that does not verify closes 4001.
func TestCommandPermissions(t *testing.T) {
	secret := []byte("a test secret of thirty-two bytes")
	v, err := auth.New(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	connectAs := func(spec auth.TokenSpec) func(*testing.T, *peer) {
		return func(t *testing.T, p *peer) {
			tok, err := auth.SignHS256(secret, spec) // in the bubble's time
			if err != nil {
				t.Fatal(err)
			}
			p.send(t, connectCmd(1, tok))
		}
	}
	cfg := Config{PingInterval: time.Hour, MaxSubscriptions: 10}
	reader := auth.TokenSpec{User: "alice", Subscribe: []string{"chat:*"}}
	for _, st := range []story{
		{name: "a reader may subscribe, read history and presence where its claims say", cfg: cfg, verifier: v, moments: []moment{
			{at: 0, do: connectAs(reader), want: []string{"ok 1"}},
			{at: time.Second, do: sends(subscribeCmd(2, "chat:a"), historyCmd(3, "chat:a"), presenceCmd(4, "chat:a")),
				want: []string{"ok 2, 0 publications", "ok 3, 0 publications", "ok 4"}},
			{at: 2 * time.Second, do: sends(subscribeCmd(5, "news"), historyCmd(6, "news"), presenceCmd(7, "news"), publishCmd(8, "chat:a")),
				want: []string{"error 5 permission_denied", "error 6 permission_denied", "error 7 permission_denied", "error 8 permission_denied"}},
		}, code: "1006"},
		{name: "a writer may publish", cfg: cfg, verifier: v, moments: []moment{
			{at: 0, do: connectAs(auth.TokenSpec{User: "bob", Publish: []string{"chat:*"}}), want: []string{"ok 1"}},
			{at: time.Second, do: sends(publishCmd(2, "chat:a"), subscribeCmd(3, "chat:a")),
				want: []string{"ok 2", "error 3 permission_denied"}},
		}, code: "1006"},
		{name: "a token that does not verify", cfg: cfg, verifier: v, moments: []moment{
			{at: 0, do: sends(connectCmd(1, "not.a.token")), want: []string{"error 1 unauthorized", "close 4001 unauthorized"},
				check: connects(ConnectUnauthorized, 1)},
		}, code: "4001"},
		{name: "no token without --dev", cfg: cfg, verifier: v, moments: []moment{
			{at: 0, do: sends(connectCmd(1, "")), want: []string{"error 1 unauthorized", "close 4001 unauthorized"}},
		}, code: "4001"},
	} {
		tell(t, st)
	}
}
