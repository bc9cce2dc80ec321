package hub

import (
	"slices"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// conn is a fake Conn that records the reasons it was closed with. When
// onClose is set, Close calls it, as a session would eventually leave the hub.
type conn struct {
	name    string
	mu      sync.Mutex
	closed  []protocol.Disconnect
	onClose func()
}

func (c *conn) Close(reason protocol.Disconnect) {
	c.mu.Lock()
	c.closed = append(c.closed, reason)
	c.mu.Unlock()
	if c.onClose != nil {
		c.onClose()
	}
}

func (c *conn) reasons() []protocol.Disconnect {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.closed)
}

type userConn struct{ user, conn string }

func TestHandleDisconnect(t *testing.T) {
	tests := []struct {
		name       string
		add        []userConn
		remove     []userConn
		disconnect string
		want       []string // conns closed, once each, with 4003
	}{
		{"every connection of the user", []userConn{{"alice", "a1"}, {"alice", "a2"}, {"bob", "b1"}}, nil,
			"alice", []string{"a1", "a2"}},
		{"no other user", []userConn{{"alice", "a1"}, {"bob", "b1"}, {"alicia", "c1"}}, nil, "bob", []string{"b1"}},
		{"unknown user closes nothing", []userConn{{"alice", "a1"}}, nil, "carol", nil},
		{"removed connection is not closed", []userConn{{"alice", "a1"}, {"alice", "a2"}}, []userConn{{"alice", "a1"}},
			"alice", []string{"a2"}},
		{"removing under another user changes nothing", []userConn{{"alice", "a1"}}, []userConn{{"bob", "a1"}},
			"alice", []string{"a1"}},
		{"registered twice, closed once", []userConn{{"alice", "a1"}, {"alice", "a1"}}, nil, "alice", []string{"a1"}},
		{"empty user id is a user like any other", []userConn{{"", "anon"}, {"alice", "a1"}}, nil, "", []string{"anon"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, conns := hubWithUsers(tt.add, tt.remove)
			h.HandleDisconnect(tt.disconnect)

			want := map[string][]protocol.Disconnect{}
			for _, name := range tt.want {
				want[name] = []protocol.Disconnect{protocol.CloseDisconnected}
			}
			got := map[string][]protocol.Disconnect{}
			for name, c := range conns {
				if r := c.reasons(); len(r) > 0 {
					got[name] = r
				}
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("closes after HandleDisconnect(%q) (-want +got):\n%s", tt.disconnect, diff)
			}
			for _, r := range got {
				if r[0].Code != 4003 {
					t.Errorf("close code %d, want 4003", r[0].Code)
				}
			}
		})
	}
}

// A connection's Close may leave the hub at once: HandleDisconnect must not
// hold the user lock while it calls Close.
func TestHandleDisconnectCloseLeavesHub(t *testing.T) {
	h := New(prometheus.NewRegistry(), nil)
	var cs []*conn
	for _, name := range []string{"a1", "a2", "a3"} {
		c := &conn{name: name}
		c.onClose = func() { h.RemoveConn("alice", c) }
		cs = append(cs, c)
		h.AddConn("alice", c)
	}
	h.HandleDisconnect("alice")
	for _, c := range cs {
		if diff := cmp.Diff([]protocol.Disconnect{protocol.CloseDisconnected}, c.reasons()); diff != "" {
			t.Errorf("%s closes (-want +got):\n%s", c.name, diff)
		}
	}
	if n := len(h.userConns("alice")); n != 0 {
		t.Errorf("%d connections of alice registered after every one left, want 0", n)
	}
}

func TestAddRemoveConn(t *testing.T) {
	tests := []struct {
		name      string
		add       []userConn
		remove    []userConn
		wantConns []userConn
	}{
		{"none", nil, nil, nil},
		{"several users", []userConn{{"alice", "a1"}, {"alice", "a2"}, {"bob", "b1"}}, nil,
			[]userConn{{"alice", "a1"}, {"alice", "a2"}, {"bob", "b1"}}},
		{"added twice counts once", []userConn{{"alice", "a1"}, {"alice", "a1"}}, nil, []userConn{{"alice", "a1"}}},
		{"removed", []userConn{{"alice", "a1"}, {"bob", "b1"}}, []userConn{{"alice", "a1"}}, []userConn{{"bob", "b1"}}},
		{"removed twice", []userConn{{"alice", "a1"}, {"bob", "b1"}}, []userConn{{"alice", "a1"}, {"alice", "a1"}},
			[]userConn{{"bob", "b1"}}},
		{"removed under the wrong user", []userConn{{"alice", "a1"}}, []userConn{{"bob", "a1"}}, []userConn{{"alice", "a1"}}},
		{"never added", nil, []userConn{{"alice", "a1"}}, nil},
		{"everyone left", []userConn{{"alice", "a1"}, {"alice", "a2"}}, []userConn{{"alice", "a2"}, {"alice", "a1"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := hubWithUsers(tt.add, tt.remove)
			var got []userConn
			for _, uc := range slices.Concat(tt.add, tt.remove) {
				if slices.ContainsFunc(got, func(g userConn) bool { return g.user == uc.user }) {
					continue // this user's connections are listed already
				}
				for _, c := range h.userConns(uc.user) {
					got = append(got, userConn{uc.user, c.(*conn).name})
				}
			}
			sortOpt := cmpopts.SortSlices(func(a, b userConn) bool { return a.user+"/"+a.conn < b.user+"/"+b.conn })
			if diff := cmp.Diff(tt.wantConns, got, cmpopts.EquateEmpty(), sortOpt, cmp.AllowUnexported(userConn{})); diff != "" {
				t.Errorf("registered connections (-want +got):\n%s", diff)
			}
			h.usersMu.Lock()
			users := len(h.users)
			h.usersMu.Unlock()
			if want := len(slices.CompactFunc(userNames(tt.wantConns), func(a, b string) bool { return a == b })); users != want {
				t.Errorf("hub keeps %d users, want %d (a user without connections is forgotten)", users, want)
			}
		})
	}
}

// userNames returns the sorted user of each connection.
func userNames(ucs []userConn) []string {
	out := make([]string, 0, len(ucs))
	for _, uc := range ucs {
		out = append(out, uc.user)
	}
	slices.Sort(out)
	return out
}

// hubWithUsers returns a hub in which the connections of add were
// registered and then those of remove closed, and those test connections by
// name (one per name).
func hubWithUsers(add, remove []userConn) (*Hub, map[string]*conn) {
	h := New(prometheus.NewRegistry(), nil)
	conns := map[string]*conn{}
	get := func(name string) *conn {
		if conns[name] == nil {
			conns[name] = &conn{name: name}
		}
		return conns[name]
	}
	for _, uc := range add {
		h.AddConn(uc.user, get(uc.conn))
	}
	for _, uc := range remove {
		h.RemoveConn(uc.user, get(uc.conn))
	}
	return h, conns
}
