package streams

import "testing"

func TestValidTopic(t *testing.T) {
	long := ""
	for range MaxTopicLen {
		long += "x"
	}
	tests := []struct {
		name string
		want bool
	}{
		{"orders", true},
		{"a.b-c_D9", true},
		{long, true},
		{long + "x", false},
		{"", false},
		{"events", false},
		{"_internal", false},
		{"a/b", false},
		{"a b", false},
		{"a:b", false},
		{"{x}", false},
		{"é", false},
	}
	for _, tt := range tests {
		if got := ValidTopic(tt.name); got != tt.want {
			t.Errorf("ValidTopic(%q) = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// The expected values come from an independent FNV-1a implementation
// (offset 2166136261, prime 16777619): other languages must match them.
func TestPartition(t *testing.T) {
	tests := []struct {
		key  string
		p    int
		want int
	}{
		{"", 16, 5},
		{"a", 16, 12},
		{"alice", 16, 7},
		{"user:bob", 16, 3},
		{"é", 16, 1},
		{"alice", 1, 0},
		{"a", 1000, 3826002220 % 1000},
	}
	for _, tt := range tests {
		if got := Partition(tt.key, tt.p); got != tt.want {
			t.Errorf("Partition(%q, %d) = %d, want %d", tt.key, tt.p, got, tt.want)
		}
	}
}

func TestKeys(t *testing.T) {
	p := Part{Group: "orders", N: 3}
	tests := []struct{ got, want string }{
		{p.Stream(), "wsg:{s:orders:3}:q"},
		{p.Lease(GroupWorkers), "wsg:{s:orders:3}:lease:workers"},
		{p.Dedup("alice", "k1"), "wsg:{s:orders:3}:d:alice:k1"},
		{p.Attempts(GroupWorkers), "wsg:{s:orders:3}:a:workers"},
		{p.Sender("1-0"), "wsg:{s:orders:3}:snd:1-0"},
		{p.Key("seq"), "wsg:{s:orders:3}:seq"},
		{MetaKey("orders"), "wsg:s:orders:meta"},
		{WorkersKey("orders"), "wsg:s:orders:workers"},
		{DeadKey("orders"), "wsg:{s:orders:dead}"},
		{DeadLetterKey("orders", GroupWorkers), "wsg:{s:orders:dead}"},
		{DeadLetterKey(Events, GroupWorkers), "wsg:{s:events:dead}"},
		{DeadLetterKey(Events, GroupWebhook), "wsg:{s:events:deadhook}"},
		{NodeConnsKey("n1"), "wsg:node:n1:conns"},
		{NodeChannel("n1"), "wsg:node:n1"},
		{FormatID("orders", 3, "1765010000000-0"), "orders/3/1765010000000-0"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParseID(t *testing.T) {
	good := []struct {
		id    string
		group string
		n     int
		entry string
	}{
		{"orders/3/1765010000000-0", "orders", 3, "1765010000000-0"},
		{"events/0/1-2", "events", 0, "1-2"},
	}
	for _, tt := range good {
		g, n, e, err := ParseID(tt.id)
		if err != nil || g != tt.group || n != tt.n || e != tt.entry {
			t.Errorf("ParseID(%q) = %q %d %q %v", tt.id, g, n, e, err)
		}
		if back := FormatID(g, n, e); back != tt.id {
			t.Errorf("FormatID(ParseID(%q)) = %q", tt.id, back)
		}
	}
	bad := []string{"", "orders", "orders/3", "orders/3/1-0/x", "_x/3/1-0", "orders/-1/1-0",
		"orders/03/1-0", "orders/a/1-0", "orders/3/1", "orders/3/a-0", "orders/3/1-b"}
	for _, id := range bad {
		if _, _, _, err := ParseID(id); err == nil {
			t.Errorf("ParseID(%q) accepted", id)
		}
	}
}
