package broker

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// The suite cases behind the backend API: presence, disconnect, nodes.

func testPresence(t *testing.T, b brokerUnderTest, _ *recorder) {
	ctx := t.Context()
	c1 := protocol.ClientInfo{User: "alice", Client: "c1", Node: "n1"}
	c2 := protocol.ClientInfo{User: "bob", Client: "c2", Node: "n2"}
	steps := []struct {
		name string
		do   func() error
		want []protocol.ClientInfo
	}{
		{"none yet", func() error { return nil }, []protocol.ClientInfo{}},
		{"add c2", func() error { return b.AddPresence(ctx, "pres", c2) }, []protocol.ClientInfo{c2}},
		{"add c1", func() error { return b.AddPresence(ctx, "pres", c1) }, []protocol.ClientInfo{c1, c2}},
		{"add elsewhere", func() error { return b.AddPresence(ctx, "other", c1) }, []protocol.ClientInfo{c1, c2}},
		{"remove c2", func() error { return b.RemovePresence(ctx, "pres", "c2") }, []protocol.ClientInfo{c1}},
		{"remove unknown", func() error { return b.RemovePresence(ctx, "pres", "nobody") }, []protocol.ClientInfo{c1}},
		{"remove c1", func() error { return b.RemovePresence(ctx, "pres", "c1") }, []protocol.ClientInfo{}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		got, err := b.Presence(ctx, "pres")
		if err != nil {
			t.Fatalf("%s: presence: %v", s.name, err)
		}
		if got == nil {
			t.Errorf("%s: presence is nil, want an empty slice", s.name)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Errorf("%s: presence (-want +got):\n%s", s.name, diff)
		}
	}
}

func testDisconnect(t *testing.T, b brokerUnderTest, r *recorder) {
	if err := b.Disconnect(t.Context(), "mallory"); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"mallory"}, r.waitUsers(t, 1)); diff != "" {
		t.Errorf("disconnected users (-want +got):\n%s", diff)
	}
}

func testNodes(t *testing.T, b brokerUnderTest, _ *recorder) {
	got, err := b.Nodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]protocol.NodeInfo{suiteNode}, got); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
}
