package worker_test

import (
	"testing"

	"github.com/wsgateway/wsgateway/service/worker"
)

// The URL forms themselves are tested in service/redisurl; here, what the
// worker adds: its pool size, even over a URL's own.
func TestRedisOptions(t *testing.T) {
	for _, u := range []string{"redis://:pw@h:6379/0?pool_size=3", "redis-sentinel://s1:26379/m", "redis-cluster://c1:7000"} {
		o, err := worker.RedisOptions(u)
		if err != nil {
			t.Errorf("%s: %v", u, err)
			continue
		}
		if o.PoolSize != worker.DefaultPoolSize {
			t.Errorf("%s: pool size %d, want %d", u, o.PoolSize, worker.DefaultPoolSize)
		}
	}
	if _, err := worker.RedisOptions("memcached://x"); err == nil {
		t.Error("memcached://x accepted")
	}
}
