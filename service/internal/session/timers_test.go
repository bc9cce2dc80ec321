package session

import (
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/internal/auth"
)

// A story is one connection told in the bubble's time, so that no test
// waits for a real expiry: at each moment (since the upgrade) do runs,
// then, once everything in the bubble waits, the client must have read
// exactly want since the moment before, and check must hold. When the
// story ends the client drops its side, and the session must have been
// counted closed with code.
type story struct {
	name     string
	cfg      Config
	verifier Verifier // nil: auth.DevVerifier, everyone is anonymous
	opt      peerOptions
	moments  []moment
	code     string // wsgateway_disconnects_total's label
}

type moment struct {
	at    time.Duration
	do    func(t *testing.T, p *peer)
	want  []string
	check func(t *testing.T, p *peer)
}

func tell(t *testing.T, st story) {
	t.Run(st.name, func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			m := newTestManager(st.cfg, st.verifier)
			p := serve(t, m, st.opt)
			start := time.Now()
			for _, mo := range st.moments {
				time.Sleep(time.Until(start.Add(mo.at)))
				if mo.do != nil {
					mo.do(t, p)
				}
				synctest.Wait()
				if diff := cmp.Diff(mo.want, p.readSoFar()); diff != "" {
					t.Fatalf("at %v the client read (-want +got):\n%s", mo.at, diff)
				}
				if mo.check != nil {
					mo.check(t, p)
				}
			}
			p.finish()
			if got := value(t, m.m.disconnects.WithLabelValues(st.code)); got != 1 {
				t.Errorf("wsgateway_disconnects_total{code=%q} = %v, want 1", st.code, got)
			}
		})
	})
}

// sends writes lines as one frame.
func sends(lines ...string) func(*testing.T, *peer) {
	return func(t *testing.T, p *peer) { p.send(t, lines...) }
}

// pings returns ping commands with ids from to to, and oks their replies.
func pings(from, to int) []string { return numbered(from, to, pingCmd) }
func oks(from, to int) []string {
	return numbered(from, to, func(id int) string { return fmt.Sprintf("ok %d", id) })
}

func numbered(from, to int, f func(int) string) []string {
	var out []string
	for id := from; id <= to; id++ {
		out = append(out, f(id))
	}
	return out
}

func join(parts ...[]string) []string {
	var out []string
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

const ms = time.Millisecond

// TestKeepalive: the server pings every interval; a connection with no pong
// and no traffic for twice the interval is closed 1011, and one that sends
// no connect in time, 4009.
func TestKeepalive(t *testing.T) {
	cfg := Config{Dev: true, PingInterval: 25 * time.Second}
	connect := moment{at: 0, do: sends(connectCmd(1, "")), want: []string{"ok 1"}}
	for _, st := range []story{
		{name: "pings every interval, and pongs alone keep the connection", cfg: cfg, moments: []moment{
			connect,
			{at: 25*time.Second - ms},
			{at: 25 * time.Second, want: []string{"ping"}},
			{at: 50 * time.Second, want: []string{"ping"}},
			{at: 100 * time.Second, want: []string{"ping", "ping"}},
		}, code: "1006"},
		{name: "no pong: closed 1011 twice the interval after the last traffic", cfg: cfg,
			opt: peerOptions{ignorePings: true}, moments: []moment{
				connect,
				{at: 10 * time.Second, do: sends(pingCmd(2)), want: []string{"ok 2"}},
				{at: 25 * time.Second, want: []string{"ping"}},
				{at: 50 * time.Second, want: []string{"ping"}},
				{at: 60*time.Second - ms},
				{at: 60 * time.Second, want: []string{"close 1011 no pong or traffic"}},
			}, code: "1011"},
		{name: "no connect in time: 4009", cfg: cfg, moments: []moment{
			{at: 10*time.Second - ms},
			{at: 10 * time.Second, want: []string{"close 4009 no connect command in time"},
				check: connects(ConnectTimeout, 1)},
		}, code: "4009"},
		{name: "a connect in time disarms the connect deadline", cfg: cfg, moments: []moment{
			{at: 9 * time.Second, do: sends(connectCmd(1, "")), want: []string{"ok 1"}},
			{at: 34*time.Second - ms, check: connects(ConnectTimeout, 0)},
		}, code: "1006"},
	} {
		tell(t, st)
	}
}

// connects checks wsgateway_connects_total{result}.
func connects(result string, want float64) func(*testing.T, *peer) {
	return func(t *testing.T, p *peer) {
		t.Helper()
		if got := value(t, p.m.m.Connects.WithLabelValues(result)); got != want {
			t.Errorf("wsgateway_connects_total{result=%q} = %v, want %v", result, got, want)
		}
	}
}

// TestTokenExpiry: a connection closes 4001 when its token expires, unless
// a refresh for the same user moved the expiry.
func TestTokenExpiry(t *testing.T) {
	secret := []byte("a test secret of thirty-two bytes")
	v, err := auth.New(auth.Config{Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	// token signs when the moment comes, in the bubble's time.
	token := func(t *testing.T, user string, ttl time.Duration) string {
		tok, err := auth.SignHS256(secret, auth.TokenSpec{User: user, TTL: ttl})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	connect := moment{at: 0, want: []string{"ok 1"}, do: func(t *testing.T, p *peer) {
		p.send(t, connectCmd(1, token(t, "alice", time.Minute)))
	}}
	refresh := func(at time.Duration, user string, ttl time.Duration, want string) moment {
		return moment{at: at, want: []string{want}, do: func(t *testing.T, p *peer) {
			p.send(t, refreshCmd(2, token(t, user, ttl)))
		}}
	}
	cfg := Config{PingInterval: time.Hour}
	expired := []string{"close 4001 token expired"}
	for _, st := range []story{
		{name: "closed 4001 at the expiry", cfg: cfg, verifier: v, moments: []moment{
			connect,
			{at: time.Minute - ms},
			{at: time.Minute, want: expired},
		}, code: "4001"},
		{name: "a refresh moves the expiry", cfg: cfg, verifier: v, moments: []moment{
			connect,
			refresh(30*time.Second, "alice", time.Minute, "ok 2"),
			{at: 90*time.Second - ms},
			{at: 90 * time.Second, want: expired},
		}, code: "4001"},
		{name: "a refresh for another user moves nothing", cfg: cfg, verifier: v, moments: []moment{
			connect,
			refresh(30*time.Second, "bob", time.Hour, "error 2 unauthorized"),
			{at: time.Minute, want: expired},
		}, code: "4001"},
		{name: "a token without exp disarms the expiry", cfg: cfg, verifier: v, moments: []moment{
			connect,
			refresh(30*time.Second, "alice", 0, "ok 2"),
			{at: 59 * time.Minute},
		}, code: "1006"},
	} {
		tell(t, st)
	}
}

// TestRateLimitRun: commands beyond the rate (burst twice the rate) get
// rate_limited; a run of refusals, each less than a second after the last,
// closes 4029 once it has lasted a second, whatever the commands the refill
// lets through in between.
func TestRateLimitRun(t *testing.T) {
	cfg := Config{Dev: true, PingInterval: time.Hour, CommandRate: 10}
	flood := moment{at: 0, do: sends(join([]string{connectCmd(1, "")}, pings(2, 21))...),
		want: join(oks(1, 20), []string{"error 21 rate_limited"})}
	for _, st := range []story{
		{name: "a second of refusals closes 4029", cfg: cfg, moments: []moment{
			flood,
			{at: 500 * ms, do: sends(pings(22, 27)...), want: join(oks(22, 26), []string{"error 27 rate_limited"})},
			{at: time.Second, do: sends(pings(28, 33)...), want: join(oks(28, 32), []string{"close 4029 rate limited"})},
		}, code: "4029"},
		{name: "a second without refusals ends the run", cfg: cfg, moments: []moment{
			flood,
			{at: time.Second, do: sends(pings(22, 32)...), want: join(oks(22, 31), []string{"error 32 rate_limited"})},
			{at: 1500 * ms, do: sends(pings(33, 38)...), want: join(oks(33, 37), []string{"error 38 rate_limited"})},
			{at: 2 * time.Second, do: sends(pings(39, 44)...), want: join(oks(39, 43), []string{"close 4029 rate limited"})},
		}, code: "4029"},
		{name: "commands at the rate are never refused", cfg: cfg, moments: []moment{
			{at: 0, do: sends(join([]string{connectCmd(1, "")}, pings(2, 10))...), want: oks(1, 10)},
			{at: time.Second, do: sends(pings(11, 20)...), want: oks(11, 20)},
			{at: 2 * time.Second, do: sends(pings(21, 30)...), want: oks(21, 30)},
			{at: 3 * time.Second, do: sends(pings(31, 40)...), want: oks(31, 40)},
		}, code: "1006"},
	} {
		tell(t, st)
	}
}

// TestStallWatch: a write the client has not taken for writeWait makes the
// connection a slow consumer (seen by the watch's next look, at most
// stallCheck later): what waits is dropped, and the write in flight gets
// closeWait to finish, then the close frame 4008 follows; a client that
// does not read again by then is cut off without one. The client here
// stops reading after the reply to its ping 2, so the reply to ping 3,
// written from 2.5 s on, waits. The watch looks once a second from its own
// start, so the moments bound what it does between writeWait and
// writeWait+stallCheck after 2.5 s.
func TestStallWatch(t *testing.T) {
	cfg := Config{Dev: true, PingInterval: time.Hour}
	stall := []moment{
		{at: 0, do: sends(connectCmd(1, "")), want: []string{"ok 1"}},
		{at: time.Second, do: func(t *testing.T, p *peer) { p.pause(); p.send(t, pingCmd(2)) }, want: []string{"ok 2"}},
		{at: 2500 * ms, do: sends(pingCmd(3))},
		{at: 2500*ms + writeWait - ms, check: slowConsumers(0)},
		{at: 2500*ms + writeWait + stallCheck, check: slowConsumers(1)},
	}
	resume := func(t *testing.T, p *peer) { p.resume() }
	for _, st := range []story{
		{name: "back within closeWait: the batch, then 4008", cfg: cfg, moments: append(stall[:len(stall):len(stall)],
			moment{at: 2500*ms + writeWait + closeWait - ms, do: resume,
				want: []string{"ok 3", "close 4008 slow consumer"}}),
			code: "4008"},
		{name: "never back: cut off closeWait later, counted 4008", cfg: cfg, moments: append(stall[:len(stall):len(stall)],
			moment{at: 2500*ms + writeWait + closeWait - ms, check: ended(false)},
			moment{at: 2500*ms + writeWait + stallCheck + closeWait, check: ended(true)}),
			code: "4008"},
		{name: "a write taken within writeWait is no stall", cfg: cfg, moments: []moment{
			stall[0], stall[1], stall[2],
			{at: 2500*ms + writeWait - ms, do: resume, want: []string{"ok 3"}},
			{at: time.Minute, do: sends(pingCmd(4)), want: []string{"ok 4"}, check: slowConsumers(0)},
		}, code: "1006"},
	} {
		tell(t, st)
	}
}

// slowConsumers checks wsgateway_slow_consumer_disconnects_total.
func slowConsumers(want float64) func(*testing.T, *peer) {
	return func(t *testing.T, p *peer) {
		t.Helper()
		if got := value(t, p.m.m.slowConsumers); got != want {
			t.Errorf("wsgateway_slow_consumer_disconnects_total = %v, want %v", got, want)
		}
	}
}

// ended checks whether the session has ended by itself.
func ended(want bool) func(*testing.T, *peer) {
	return func(t *testing.T, p *peer) {
		t.Helper()
		select {
		case <-p.served:
			if !want {
				t.Error("the session has ended")
			}
		default:
			if want {
				t.Error("the session still runs")
			}
		}
	}
}
