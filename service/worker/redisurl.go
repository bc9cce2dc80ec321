package worker

import (
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/redisurl"
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
	o, err := redisurl.Parse(raw)
	if err != nil {
		return nil, err
	}
	o.PoolSize = DefaultPoolSize
	return o, nil
}
