package server

import (
	"net/netip"
	"testing"
)

func TestBucketOf(t *testing.T) {
	tests := []struct {
		name, ip, want string
	}{
		{"IPv4 is its own bucket", "203.0.113.7", "203.0.113.7"},
		{"IPv4-mapped IPv6 counts as IPv4", "::ffff:203.0.113.7", "203.0.113.7"},
		{"IPv6 shares its /64", "2001:db8:1:2:aaaa:bbbb:cccc:dddd", "2001:db8:1:2::"},
		{"the /64 itself", "2001:db8:1:2::", "2001:db8:1:2::"},
		{"a zone does not make a new bucket", "fe80::1%eth0", "fe80::"},
		{"invalid address stays invalid", "", "invalid IP"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ip netip.Addr
			if tt.ip != "" {
				ip = netip.MustParseAddr(tt.ip)
			}
			if got := bucketOf(ip).String(); got != tt.want {
				t.Errorf("bucketOf(%s) = %s, want %s", tt.ip, got, tt.want)
			}
		})
	}
}

func TestIPLimiterSharesABucketPerIPv6Slash64(t *testing.T) {
	l := newIPLimiter(1) // burst 2
	same := []string{"2001:db8::1", "2001:db8::ffff:1"}
	for _, a := range same {
		if !l.allow(netip.MustParseAddr(a)) {
			t.Fatalf("%s refused within the burst", a)
		}
	}
	if l.allow(netip.MustParseAddr("2001:db8::abcd")) {
		t.Fatal("a third address of the same /64 was allowed beyond the burst")
	}
	if !l.allow(netip.MustParseAddr("2001:db8:0:1::1")) {
		t.Fatal("the next /64 was refused: it has a bucket of its own")
	}
}
