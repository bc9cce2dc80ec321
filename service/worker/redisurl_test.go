package worker_test

import (
	"testing"

	"github.com/wsgateway/wsgateway/service/worker"
)

func TestRedisOptions(t *testing.T) {
	tests := []struct {
		url     string
		addrs   []string
		master  string
		pass    string
		cluster bool
	}{
		{"redis://:pw@h:6379/0", []string{"h:6379"}, "", "pw", false},
		{"redis-sentinel://:p%40ss@s1:26379,s2:26379/mymaster", []string{"s1:26379", "s2:26379"}, "mymaster", "p@ss", false},
		{"redis-cluster://c1:7000,c2:7001", []string{"c1:7000", "c2:7001"}, "", "", true},
	}
	for _, tt := range tests {
		o, err := worker.RedisOptions(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if len(o.Addrs) != len(tt.addrs) || o.Addrs[0] != tt.addrs[0] || o.MasterName != tt.master ||
			o.Password != tt.pass || o.IsClusterMode != tt.cluster || o.PoolSize != worker.DefaultPoolSize {
			t.Errorf("%s: %+v", tt.url, o)
		}
	}
	for _, bad := range []string{"h:6379", "redis-sentinel://s1:26379", "redis-cluster://", "memcached://x"} {
		if _, err := worker.RedisOptions(bad); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
}
