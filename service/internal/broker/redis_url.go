package broker

import (
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Client timeouts: short, so that a dead server is noticed within half a
// second and the breaker takes over; one retry absorbs a stale pooled
// connection after a Redis restart.
const (
	dialTimeout = 500 * time.Millisecond
	ioTimeout   = 500 * time.Millisecond
	maxRetries  = 1
)

// newUniversalClient builds the client for the URL's mode and reports
// whether it is Cluster mode.
func newUniversalClient(raw string) (redis.UniversalClient, bool, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, false, fmt.Errorf("redis url %q: no scheme", raw)
	}
	switch scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, false, fmt.Errorf("redis url: %w", err)
		}
		o.DialTimeout, o.ReadTimeout, o.WriteTimeout, o.MaxRetries = dialTimeout, ioTimeout, ioTimeout, maxRetries
		return redis.NewClient(o), false, nil
	case "redis-sentinel":
		pass, hosts, path := splitMulti(rest)
		if len(hosts) == 0 || path == "" {
			return nil, false, fmt.Errorf("redis url %q: want redis-sentinel://[:pass@]host:port,.../MASTER", raw)
		}
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: path, SentinelAddrs: hosts, Password: pass,
			DialTimeout: dialTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout, MaxRetries: maxRetries,
		}), false, nil
	case "redis-cluster":
		pass, hosts, _ := splitMulti(rest)
		if len(hosts) == 0 {
			return nil, false, fmt.Errorf("redis url %q: want redis-cluster://[:pass@]host:port[,host:port]", raw)
		}
		return redis.NewClusterClient(&redis.ClusterOptions{
			Addrs: hosts, Password: pass,
			DialTimeout: dialTimeout, ReadTimeout: ioTimeout, WriteTimeout: ioTimeout, MaxRetries: maxRetries,
		}), true, nil
	}
	return nil, false, fmt.Errorf("redis url %q: unknown scheme %q", raw, scheme)
}

// splitMulti parses "[:pass@]h1:p1,h2:p2[/path]".
func splitMulti(rest string) (pass string, hosts []string, path string) {
	rest, path, _ = strings.Cut(rest, "/")
	if cred, hs, ok := strings.Cut(rest, "@"); ok {
		_, p, _ := strings.Cut(cred, ":")
		pass, _ = url.PathUnescape(p)
		rest = hs
	}
	for _, h := range strings.Split(rest, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	return pass, hosts, path
}
