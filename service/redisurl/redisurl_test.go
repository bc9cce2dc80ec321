package redisurl_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/redisurl"
)

func TestParse(t *testing.T) {
	tests := []struct {
		name, url string
		addrs     []string
		master    string
		user      string
		pass      string
		db        int
		tls       bool
		cluster   bool
	}{
		{"redis", "redis://:pw@h:6379/2", []string{"h:6379"}, "", "", "pw", 2, false, false},
		{"rediss with user", "rediss://u:pw@h:6380/0", []string{"h:6380"}, "", "u", "pw", 0, true, false},
		{"sentinel", "redis-sentinel://:p%40ss@s1:26379,s2:26379/mymaster", []string{"s1:26379", "s2:26379"}, "mymaster", "", "p@ss", 0, false, false},
		{"cluster", "redis-cluster://c1:7000, c2:7001", []string{"c1:7000", "c2:7001"}, "", "", "", 0, false, true},
		{"cluster of one seed", "redis-cluster://:pw@c1:7000", []string{"c1:7000"}, "", "", "pw", 0, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o, err := redisurl.Parse(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.addrs, o.Addrs); diff != "" {
				t.Errorf("addrs (-want +got):\n%s", diff)
			}
			if o.MasterName != tt.master || o.Username != tt.user || o.Password != tt.pass || o.DB != tt.db ||
				(o.TLSConfig != nil) != tt.tls || o.IsClusterMode != tt.cluster {
				t.Errorf("got %+v", o)
			}
		})
	}
}

func TestParseQueryParameters(t *testing.T) {
	o, err := redisurl.Parse("redis://h:6379/0?client_name=gw&pool_size=7&protocol=2")
	if err != nil {
		t.Fatal(err)
	}
	if o.ClientName != "gw" || o.PoolSize != 7 || o.Protocol != 2 {
		t.Errorf("query parameters lost: %+v", o)
	}
}

// The messages are what an operator sees for a bad --redis-url.
func TestParseRejects(t *testing.T) {
	tests := []struct{ url, want string }{
		{"h:6379", `redis url "h:6379": no scheme`},
		{"redis-sentinel://s1:26379", `want redis-sentinel://[:pass@]host:port,.../MASTER`},
		{"redis-sentinel:///mymaster", `want redis-sentinel://`},
		{"redis-cluster://", `want redis-cluster://[:pass@]host:port[,host:port]`},
		{"memcached://x", `unknown scheme "memcached"`},
		{"redis://h:6379/notadb", `redis url: `},
	}
	for _, tt := range tests {
		_, err := redisurl.Parse(tt.url)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Parse(%q) = %v, want an error with %q", tt.url, err, tt.want)
		}
	}
}
