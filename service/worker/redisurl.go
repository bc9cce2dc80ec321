package worker

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// DefaultPoolSize is the Redis pool of NewRedis: a worker holds one
// blocking read per held partition, and the gateway's default is 16
// partitions.
const DefaultPoolSize = 64

// NewRedis connects to Redis given a URL in the gateway's --redis-url forms:
// redis://, rediss://, redis-sentinel://[:pass@]h1:26379,h2:26379/MASTER
// or redis-cluster://[:pass@]h1:7000,h2:7001.
func NewRedis(raw string) (redis.UniversalClient, error) {
	o, err := RedisOptions(raw)
	if err != nil {
		return nil, err
	}
	return redis.NewUniversalClient(o), nil
}

// RedisOptions parses a URL as NewRedis does, with PoolSize DefaultPoolSize.
func RedisOptions(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("redis url %q: no scheme", raw)
	}
	u := &redis.UniversalOptions{PoolSize: DefaultPoolSize}
	switch scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		u.Addrs, u.Username, u.Password, u.DB, u.TLSConfig = []string{o.Addr}, o.Username, o.Password, o.DB, o.TLSConfig
	case "redis-sentinel":
		u.Password, u.Addrs, u.MasterName = splitMulti(rest)
		if len(u.Addrs) == 0 || u.MasterName == "" {
			return nil, fmt.Errorf("redis url %q: want redis-sentinel://[:pass@]host:port,.../MASTER", raw)
		}
	case "redis-cluster":
		u.Password, u.Addrs, _ = splitMulti(rest)
		if len(u.Addrs) == 0 {
			return nil, fmt.Errorf("redis url %q: want redis-cluster://[:pass@]host:port[,host:port]", raw)
		}
		u.IsClusterMode = true
	default:
		return nil, fmt.Errorf("redis url %q: unknown scheme %q", raw, scheme)
	}
	return u, nil
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
