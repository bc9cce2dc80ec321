// Package redisurl parses the --redis-url forms that the gateway and the
// worker library share: redis://, rediss://,
// redis-sentinel://[:pass@]h1:26379,h2:26379/MASTER and
// redis-cluster://[:pass@]h1:7000,h2:7001. It owns the parsing only: each
// caller sets its own pool size and timeouts on the options it gets back,
// so one URL means the same servers to every part of the system.
package redisurl

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"
)

// Parse turns a URL into options for redis.NewUniversalClient. A Sentinel
// URL sets MasterName (the client then talks to the master the sentinels
// name); a Cluster URL sets IsClusterMode, even with one seed address.
func Parse(raw string) (*redis.UniversalOptions, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("redis url %q: no scheme", raw)
	}
	switch scheme {
	case "redis", "rediss":
		o, err := redis.ParseURL(raw)
		if err != nil {
			return nil, fmt.Errorf("redis url: %w", err)
		}
		return single(o), nil
	case "redis-sentinel":
		pass, hosts, master := splitMulti(rest)
		if len(hosts) == 0 || master == "" {
			return nil, fmt.Errorf("redis url %q: want redis-sentinel://[:pass@]host:port,.../MASTER", raw)
		}
		return &redis.UniversalOptions{Addrs: hosts, Password: pass, MasterName: master}, nil
	case "redis-cluster":
		pass, hosts, _ := splitMulti(rest)
		if len(hosts) == 0 {
			return nil, fmt.Errorf("redis url %q: want redis-cluster://[:pass@]host:port[,host:port]", raw)
		}
		return &redis.UniversalOptions{Addrs: hosts, Password: pass, IsClusterMode: true}, nil
	}
	return nil, fmt.Errorf("redis url %q: unknown scheme %q", raw, scheme)
}

// single carries what redis.ParseURL read (the query parameters included)
// over to universal options, so a redis:// URL means what go-redis says.
func single(o *redis.Options) *redis.UniversalOptions {
	return &redis.UniversalOptions{
		Addrs: []string{o.Addr}, ClientName: o.ClientName, Protocol: o.Protocol,
		Username: o.Username, Password: o.Password, DB: o.DB, TLSConfig: o.TLSConfig,
		MaxRetries: o.MaxRetries, MinRetryBackoff: o.MinRetryBackoff, MaxRetryBackoff: o.MaxRetryBackoff,
		DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
		PoolFIFO: o.PoolFIFO, PoolSize: o.PoolSize, PoolTimeout: o.PoolTimeout,
		MinIdleConns: o.MinIdleConns, MaxIdleConns: o.MaxIdleConns, MaxActiveConns: o.MaxActiveConns,
		ConnMaxIdleTime: o.ConnMaxIdleTime, ConnMaxLifetime: o.ConnMaxLifetime,
		ContextTimeoutEnabled: o.ContextTimeoutEnabled,
	}
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
