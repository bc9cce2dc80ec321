package broker

import (
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/redisurl"
)

// Client timeouts: short, so that a dead server is noticed within half a
// second and the breaker takes over; one retry absorbs a stale pooled
// connection after a Redis restart.
const (
	dialTimeout = 500 * time.Millisecond
	ioTimeout   = 500 * time.Millisecond
	maxRetries  = 1
)

// newUniversalClient builds the client for the URL's mode (parsed as the
// worker library parses it) and reports whether it is Cluster mode.
func newUniversalClient(raw string) (redis.UniversalClient, bool, error) {
	o, err := redisurl.Parse(raw)
	if err != nil {
		return nil, false, err
	}
	o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetries = dialTimeout, ioTimeout, ioTimeout, maxRetries
	return redis.NewUniversalClient(o), o.IsClusterMode, nil
}
