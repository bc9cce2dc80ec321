package streams

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// ErrNoPartitions means a stream group's partition count is not written yet:
// no gateway has created the topic.
var ErrNoPartitions = errors.New("streams: partition count not set")

// Partitions reads a stream group's partition count from MetaKey.
func Partitions(ctx context.Context, rdb redis.UniversalClient, group string) (int, error) {
	s, err := rdb.HGet(ctx, MetaKey(group), MetaPartitions).Result()
	if errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("partitions of %s: %w", group, ErrNoPartitions)
	}
	if err != nil {
		return 0, fmt.Errorf("partitions of %s: %w", group, err)
	}
	return parsePartitions(group, s)
}

// EnsurePartitions writes n as the group's partition count unless one is
// already stored, and returns the stored one: P never changes for existing
// data, so the first writer wins.
func EnsurePartitions(ctx context.Context, rdb redis.UniversalClient, group string, n int) (int, error) {
	if n <= 0 {
		return 0, fmt.Errorf("partitions of %s: %d is not positive", group, n)
	}
	if err := rdb.HSetNX(ctx, MetaKey(group), MetaPartitions, n).Err(); err != nil {
		return 0, fmt.Errorf("partitions of %s: %w", group, err)
	}
	return Partitions(ctx, rdb, group)
}

func parsePartitions(group, s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("partitions of %s: stored value %q is not a positive number", group, s)
	}
	return n, nil
}
