package streams

import (
	"context"
	"slices"

	"github.com/redis/go-redis/v9"
)

// deadOnly are the fields a dead letter adds to the original entry's.
var deadOnly = []string{FieldOrigID, FieldPartition, FieldAttempts, FieldError, FieldDeadMS}

// originalOrder is the order a re-driven entry's fields are written in: an
// inbox entry's as the gateway enqueues them; any others (an event's, or a
// field a newer layout added) follow, sorted.
var originalOrder = []string{FieldID, FieldTopic, FieldUser, FieldClient, FieldNode, FieldData, FieldKey,
	FieldTimeMS, FieldTraceparent}

// IsDeadField reports whether f is one of the fields a dead letter adds
// (FieldOrigID ... FieldDeadMS), which a re-drive drops.
func IsDeadField(f string) bool { return slices.Contains(deadOnly, f) }

// ReadDead reads the dead letters of the stream at key (DeadKey or
// DeadHookKey): the ones with the given ids that exist, in the order given,
// or without ids the oldest limit. Its error is Redis's, for the caller to
// put in context (the gateway's breaker classifies it).
func ReadDead(ctx context.Context, rdb redis.Cmdable, key string, ids []string, limit int) ([]redis.XMessage, error) {
	if len(ids) == 0 {
		return rdb.XRangeN(ctx, key, "-", "+", int64(limit)).Result()
	}
	cmds, err := rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.XRange(ctx, key, id, id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	var msgs []redis.XMessage
	for _, c := range cmds {
		msgs = append(msgs, c.(*redis.XMessageSliceCmd).Val()...)
	}
	return msgs, nil
}

// RedriveFields returns a dead letter's original fields as field, value
// pairs for XADD: every string field but those the dead letter added. The
// public message id (FieldID) is kept, so a reply to a re-driven inbox
// message still reaches its sender.
func RedriveFields(values map[string]any) []any {
	pairs := make([]any, 0, 2*len(values))
	for _, f := range originalOrder {
		if v, ok := values[f].(string); ok {
			pairs = append(pairs, f, v)
		}
	}
	var rest []string
	for f, v := range values {
		if _, ok := v.(string); ok && !IsDeadField(f) && !slices.Contains(originalOrder, f) {
			rest = append(rest, f)
		}
	}
	slices.Sort(rest)
	for _, f := range rest {
		pairs = append(pairs, f, values[f])
	}
	return pairs
}
