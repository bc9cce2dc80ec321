package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// MaxDeadLetters bounds one dead-letter listing or re-drive.
const MaxDeadLetters = 1000

// DeadLetters lists up to limit of topic's dead letters, oldest first.
func (i *RedisInbox) DeadLetters(ctx context.Context, topic string, limit int) ([]protocol.DeadLetter, error) {
	msgs, err := i.readDead(ctx, topic, nil, limit)
	if err != nil {
		return nil, err
	}
	out := make([]protocol.DeadLetter, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, deadLetter(m))
	}
	return out, nil
}

// readDead reads the dead letters with the given ids (those that exist), or
// without ids the oldest limit.
func (i *RedisInbox) readDead(ctx context.Context, topic string, ids []string, limit int) ([]redis.XMessage, error) {
	if !protocol.ValidTopic(topic) {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "invalid topic %q", topic)
	}
	limit = min(max(limit, 1), MaxDeadLetters)
	if len(ids) > MaxDeadLetters {
		return nil, protocol.Errorf(protocol.CodeBadRequest, "at most %d ids", MaxDeadLetters)
	}
	var msgs []redis.XMessage
	err := i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		msgs, err = streams.ReadDead(ctx, i.r.rdb, streams.DeadKey(topic), ids, limit)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("dead letters of %s: %w", topic, err)
	}
	return msgs, nil
}

// deadLetter decodes a dead-letter entry; a field that is missing or not a
// number reads as its zero value.
func deadLetter(m redis.XMessage) protocol.DeadLetter {
	str := func(f string) string { s, _ := m.Values[f].(string); return s }
	num := func(f string) int64 { n, _ := strconv.ParseInt(str(f), 10, 64); return n }
	data := json.RawMessage(str(streams.FieldData))
	if !json.Valid(data) {
		data = json.RawMessage("null")
	}
	return protocol.DeadLetter{
		DeadID: m.ID, ID: str(streams.FieldID), Topic: str(streams.FieldTopic), User: str(streams.FieldUser),
		Client: str(streams.FieldClient), Node: str(streams.FieldNode), Data: data, Key: str(streams.FieldKey),
		TimeMS: num(streams.FieldTimeMS), Partition: int(num(streams.FieldPartition)), OrigID: str(streams.FieldOrigID),
		Attempts: int(num(streams.FieldAttempts)), Error: str(streams.FieldError), DeadMS: num(streams.FieldDeadMS),
	}
}

// Redrive puts dead letters of topic back at the end of their partitions,
// with their original fields (the message id included, so a reply still
// reaches the sender), and removes them from the dead-letter stream: the
// ones named by ids, or without ids the oldest limit. It stops at the first
// partition that is full (rate_limited, with what was re-driven before it
// kept). The dead letter is removed after its re-queue, in two steps (two
// slots): a crash between them re-drives it twice later, at least once.
func (i *RedisInbox) Redrive(ctx context.Context, topic string, ids []string, limit int) ([]protocol.Redriven, error) {
	msgs, err := i.readDead(ctx, topic, ids, limit)
	if err != nil {
		return nil, err
	}
	n, err := i.partitions(ctx, topic)
	if err != nil {
		return nil, err
	}
	capacity := (i.opts.MaxLen + n - 1) / n
	out := make([]protocol.Redriven, 0, len(msgs))
	for _, m := range msgs {
		d := deadLetter(m)
		if d.Partition < 0 || d.Partition >= n {
			return out, fmt.Errorf("redrive %s %s: partition %d of %d", topic, m.ID, d.Partition, n)
		}
		entry, err := i.requeue(ctx, streams.Part{Group: topic, N: d.Partition}, m, capacity)
		if err != nil {
			return out, fmt.Errorf("redrive %s %s: %w", topic, m.ID, err)
		}
		if entry == "" {
			return out, protocol.Errorf(protocol.CodeRateLimited, "partition %d of topic %q is full", d.Partition, topic)
		}
		err = i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
			return i.r.rdb.XDel(ctx, streams.DeadKey(topic), m.ID).Err()
		})
		if err != nil {
			return out, fmt.Errorf("redrive %s %s: %w", topic, m.ID, err)
		}
		out = append(out, protocol.Redriven{DeadID: m.ID, ID: d.ID, EntryID: entry})
	}
	return out, nil
}

// requeue appends m's original fields to the partition; "" when it is full.
func (i *RedisInbox) requeue(ctx context.Context, p streams.Part, m redis.XMessage, capacity int) (string, error) {
	args := append([]any{capacity, streams.GroupWorkers}, streams.RedriveFields(m.Values)...)
	var entry string
	err := i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		entry, err = requeueScript.Run(ctx, i.r.rdb, []string{p.Stream()}, args...).Text()
		return err
	})
	return entry, err
}

// requeueScript appends one entry to a partition unless it is full.
// KEYS: the stream. ARGV: capacity, consumer group, then field, value pairs.
// Returns the new entry id, or "" when full.
var requeueScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[2], '0', 'MKSTREAM')
end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[1]) then return '' end
return redis.call('XADD', KEYS[1], '*', unpack(ARGV, 3))
`)
