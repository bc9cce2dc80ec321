package worker

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// DeadLetter is one entry of a topic's dead-letter stream.
type DeadLetter struct {
	ID        string            // its id in the dead-letter stream (what Redrive takes)
	MessageID string            // the public message id it had
	Partition int               // its partition
	Attempts  int               // failed runs
	Error     string            // the last error
	DeadAt    time.Time         // when it was dead-lettered
	Fields    map[string]string // the original entry's fields
}

// DeadLetters lists up to limit of the oldest dead letters of a topic (or
// streams.Events) from its workers' dead-letter stream, oldest first.
func DeadLetters(ctx context.Context, rdb redis.UniversalClient, topic string, limit int) ([]DeadLetter, error) {
	return deadLettersAt(ctx, rdb, topic, streams.DeadKey(topic), limit)
}

func deadLettersAt(ctx context.Context, rdb redis.UniversalClient, topic, key string, limit int) ([]DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	msgs, err := streams.ReadDead(ctx, rdb, key, nil, limit)
	if err != nil {
		return nil, fmt.Errorf("dead letters of %s: %w", topic, err)
	}
	out := make([]DeadLetter, 0, len(msgs))
	for _, e := range toEntries(msgs) {
		out = append(out, toDeadLetter(topic, e))
	}
	return out, nil
}

func toDeadLetter(topic string, e Entry) DeadLetter {
	f := e.Fields
	part, _ := strconv.Atoi(f[streams.FieldPartition])
	attempts, _ := strconv.Atoi(f[streams.FieldAttempts])
	ms, _ := strconv.ParseInt(f[streams.FieldDeadMS], 10, 64)
	d := DeadLetter{ID: e.ID, Partition: part, Attempts: attempts, Error: f[streams.FieldError],
		DeadAt: time.UnixMilli(ms), Fields: map[string]string{}}
	for k, v := range f {
		if !streams.IsDeadField(k) {
			d.Fields[k] = v
		}
	}
	d.MessageID = f[streams.FieldID]
	if d.MessageID == "" {
		d.MessageID = streams.FormatID(topic, part, f[streams.FieldOrigID])
	}
	return d
}

// Redrive queues the given dead letters (ids from DeadLetters) again at the
// end of their partitions, with their original fields (an inbox message
// keeps its public id, so a reply still reaches its sender), and removes
// them from the dead letters. It returns how many it queued; unknown ids
// are skipped. Each is added before it is removed, so a failure between
// the two leaves a duplicate, never a loss.
func Redrive(ctx context.Context, rdb redis.UniversalClient, topic string, ids []string) (int, error) {
	key := streams.DeadKey(topic)
	n := 0
	for _, id := range ids {
		msgs, err := streams.ReadDead(ctx, rdb, key, []string{id}, 0)
		if err != nil {
			return n, fmt.Errorf("redrive %s %s: %w", topic, id, err)
		}
		if len(msgs) == 0 {
			continue
		}
		d := toDeadLetter(topic, toEntries(msgs)[0])
		part := streams.Part{Group: topic, N: d.Partition}
		vals := streams.RedriveFields(msgs[0].Values)
		if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: part.Stream(), Values: vals}).Err(); err != nil {
			return n, fmt.Errorf("redrive %s %s: %w", topic, id, err)
		}
		if err := rdb.XDel(ctx, key, id).Err(); err != nil {
			return n, fmt.Errorf("redrive %s %s: removing the dead letter: %w", topic, id, err)
		}
		n++
	}
	return n, nil
}
