package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// InboxOptions configure the Redis inbox.
type InboxOptions struct {
	Node       string        // this node's id: its reply channel and conns set
	MaxLen     int           // --inbox-max-len: per topic, split evenly over its partitions
	NoWorker   time.Duration // --inbox-no-worker
	Partitions int           // --inbox-partitions, for topics not created yet
	// Deliver hands a reply push line to the local client; it reports false
	// when the client is not connected here (any more).
	Deliver func(client string, line []byte) bool
	Metrics *InboxMetrics
	Log     *slog.Logger
	// Tracer records a span for each traced reply delivered here, a child
	// of the API's reply span on whichever node took it; nil: none.
	Tracer trace.Tracer
}

// workerCacheTTL bounds how long a topic's "a worker is alive" answer is
// reused: the check costs a round trip, and a second is nothing next to
// --inbox-no-worker.
const workerCacheTTL = time.Second

// maxSeenTopics bounds the topics whose gauges a node computes on scrape,
// so that clients sending to many topics cannot make a scrape unbounded.
const maxSeenTopics = 100

// RedisInbox is the gateway's side of the inbox (docs/streams.md): it
// queues sends into the topic's partition streams, routes workers' replies
// to the node of the sender, and lists and re-drives dead letters. It shares
// the Redis broker's client and circuit breaker. Run owns the reply
// listener and the conns refresh; the methods are safe for concurrent use.
type RedisInbox struct {
	r    *Redis
	opts InboxOptions

	mu      sync.Mutex
	parts   map[string]topicParts // topic -> partitions, once read or written
	workers map[string]time.Time  // topic -> when a live worker was last seen (checked)
	clients map[string]struct{}   // this node's clients that sent: the conns set's members
	stats   *topicStats
}

// NewInbox returns the inbox on r's Redis.
func (r *Redis) NewInbox(opts InboxOptions) *RedisInbox {
	if opts.Partitions <= 0 {
		opts.Partitions = streams.DefaultPartitions
	}
	i := &RedisInbox{r: r, opts: opts, parts: map[string]topicParts{}, workers: map[string]time.Time{},
		clients: map[string]struct{}{}}
	i.stats = newTopicStats(i)
	opts.Metrics.topics.Store(i.stats)
	return i
}

// Send queues m once (per user, topic and idempotency key, for
// streams.DedupTTL) into the partition of its user. It answers
// rate_limited when that partition is full, unavailable when Redis is down
// or no worker of the topic was seen within NoWorker.
func (i *RedisInbox) Send(ctx context.Context, m protocol.InboxMessage) (protocol.SendResult, error) {
	res, result, err := i.send(ctx, m)
	i.opts.Metrics.Enqueued.WithLabelValues(result).Inc()
	if err != nil {
		return protocol.SendResult{}, fmt.Errorf("send to %s: %w", m.Topic, err)
	}
	return res, nil
}

func (i *RedisInbox) send(ctx context.Context, m protocol.InboxMessage) (protocol.SendResult, string, error) {
	n, err := i.partitions(ctx, m.Topic)
	if err != nil {
		return protocol.SendResult{}, EnqueueUnavailable, err
	}
	if err := i.checkWorkers(ctx, m.Topic); err != nil {
		if errors.Is(err, errNoWorker) {
			return protocol.SendResult{}, EnqueueNoWorker, err
		}
		return protocol.SendResult{}, EnqueueUnavailable, err
	}
	if err := i.join(ctx, m.Client); err != nil {
		return protocol.SendResult{}, EnqueueUnavailable, err
	}
	i.stats.saw(m.Topic)
	p := streams.Part{Group: m.Topic, N: streams.Partition(m.User, n)}
	capacity := (i.opts.MaxLen + n - 1) / n
	keys := []string{p.Stream(), p.Stream(), p.Sender("")}
	hasKey := "0"
	if m.Key != "" {
		keys[1], hasKey = p.Dedup(m.User, m.Key), "1"
	}
	args := []any{hasKey, capacity, streams.GroupWorkers, m.Topic, p.N, m.User, m.Client, i.opts.Node,
		string(m.Data), m.Key, m.TraceParent, int(streams.DedupTTL / time.Second), int(streams.SenderTTL / time.Second),
		i.opts.Node + "\t" + m.Client}
	var res []any
	err = i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		res, err = evalScriptNoRetry(ctx, i.r.rdb, enqueueScript, keys, args)
		return err
	})
	if err != nil {
		return protocol.SendResult{}, EnqueueUnavailable, err
	}
	id, _ := res[0].(string)
	switch code, _ := res[1].(int64); code {
	case 1:
		return protocol.SendResult{ID: id, Duplicate: true}, EnqueueDuplicate, nil
	case 2:
		return protocol.SendResult{}, EnqueueFull, protocol.Errorf(protocol.CodeRateLimited,
			"the inbox of topic %q is full (%d unconsumed messages in partition %d)", m.Topic, capacity, p.N)
	}
	return protocol.SendResult{ID: id}, EnqueueOK, nil
}

// metaRecheck is how often a node writes a topic's partition count again
// (HSETNX, a no-op while it exists): a Redis that lost its data gets it
// back within this, so that workers find it.
const metaRecheck = time.Minute

// topicParts is a topic's partition count and when it was last written.
type topicParts struct {
	n  int
	at time.Time
}

// partitions returns the topic's partition count, writing the configured
// one on first use (HSETNX: the first gateway wins, and it never changes).
func (i *RedisInbox) partitions(ctx context.Context, topic string) (int, error) {
	i.mu.Lock()
	tp, ok := i.parts[topic]
	i.mu.Unlock()
	if ok && time.Since(tp.at) < metaRecheck {
		return tp.n, nil
	}
	n := i.opts.Partitions
	if ok {
		n = tp.n // what this node has been using, whatever its flag says
	}
	err := i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		n, err = streams.EnsurePartitions(ctx, i.r.rdb, topic, n)
		return err
	})
	if err != nil {
		return 0, err
	}
	i.mu.Lock()
	i.parts[topic] = topicParts{n: n, at: time.Now()}
	i.mu.Unlock()
	return n, nil
}

// errNoWorker: no worker of the topic sent a heartbeat within NoWorker.
var errNoWorker = errors.New("no worker")

// checkWorkers answers errNoWorker (wrapping unavailable) when the topic's
// workers ZSET has no member newer than NoWorker. A positive answer is
// reused for workerCacheTTL; a negative one is not, so the first send after
// a worker starts goes through.
func (i *RedisInbox) checkWorkers(ctx context.Context, topic string) error {
	now := time.Now()
	i.mu.Lock()
	seen, ok := i.workers[topic]
	i.mu.Unlock()
	if ok && now.Sub(seen) < workerCacheTTL {
		return nil
	}
	var live int64
	err := i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		live, err = i.r.rdb.ZCount(ctx, streams.WorkersKey(topic),
			"("+strconv.FormatInt(now.Add(-i.opts.NoWorker).UnixMilli(), 10), "+inf").Result()
		return err
	})
	if err != nil {
		return err
	}
	if live == 0 {
		return fmt.Errorf("%w of topic %q seen in the last %v: %w", errNoWorker, topic, i.opts.NoWorker,
			protocol.Errorf(protocol.CodeUnavailable, "no worker of topic %q seen in the last %v", topic, i.opts.NoWorker))
	}
	i.mu.Lock()
	i.workers[topic] = now
	i.mu.Unlock()
	return nil
}

// enqueueScript queues one send into one partition, atomically: the dedup
// check, the consumer group on first use, the length check (never a trim:
// unconsumed work is never dropped), the entry, the dedup key and the
// sender's address for replies. Every key is in the partition's slot
// ({s:<topic>:<p>}), so it runs on Redis Cluster.
//
// The entry's id is chosen here (the stream's last id + 1, or now), because
// its fields carry the public id that contains it.
//
// KEYS: stream, dedup key (the stream again without a key), the sender key
// prefix ("...:snd:", which the script completes with the entry id: same slot).
// ARGV: 1 "1" when there is a key, 2 capacity, 3 consumer group, 4 topic,
// 5 partition, 6 user, 7 client, 8 node, 9 data, 10 key, 11 traceparent,
// 12 dedup ttl s, 13 sender ttl s, 14 sender value.
// Returns {public id, 0 queued | 1 duplicate | 2 full}.
var enqueueScript = redis.NewScript(`
if ARGV[1] == '1' then
  local prev = redis.call('GET', KEYS[2])
  if prev then return {prev, 1} end
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('XGROUP', 'CREATE', KEYS[1], ARGV[3], '0', 'MKSTREAM')
end
if redis.call('XLEN', KEYS[1]) >= tonumber(ARGV[2]) then return {'', 2} end
local info = redis.call('XINFO', 'STREAM', KEYS[1])
local last = '0-0'
for j = 1, #info, 2 do
  if info[j] == 'last-generated-id' then last = info[j + 1] end
end
local sep = string.find(last, '-', 1, true)
local lms, lseq = tonumber(string.sub(last, 1, sep - 1)), tonumber(string.sub(last, sep + 1))
local t = redis.call('TIME')
local ms = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local eid
if ms > lms then eid = string.format('%.0f', ms) .. '-0' else eid = string.format('%.0f', lms) .. '-' .. string.format('%.0f', lseq + 1) end
local pub = ARGV[4] .. '/' .. ARGV[5] .. '/' .. eid
redis.call('XADD', KEYS[1], eid, 'id', pub, 'topic', ARGV[4], 'user', ARGV[6], 'client', ARGV[7],
  'node', ARGV[8], 'data', ARGV[9], 'key', ARGV[10], 'time_ms', string.format('%.0f', ms), 'traceparent', ARGV[11])
if ARGV[1] == '1' then
  redis.call('SET', KEYS[2], pub, 'EX', ARGV[12])
end
redis.call('SET', KEYS[3] .. eid, ARGV[14], 'EX', ARGV[13])
return {pub, 0}
`)

// evalScriptNoRetry runs script with EVALSHA as a noRetryCmd (see
// evalNoRetry): a send that may have run is never sent again by go-redis.
func evalScriptNoRetry(ctx context.Context, c scriptConn, script *redis.Script, keys []string, args []any) ([]any, error) {
	for loaded := false; ; loaded = true {
		cmd := noRetryCmd{redis.NewCmd(ctx, append([]any{"evalsha", script.Hash(), len(keys)}, append(toAny(keys), args...)...)...)}
		cmd.SetFirstKeyPos(3)
		_ = c.Process(ctx, cmd)
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") && !loaded {
			if err := script.Load(ctx, c).Err(); err != nil {
				return nil, err
			}
			continue
		}
		res, err := cmd.Slice()
		if err == nil && len(res) < 2 {
			err = fmt.Errorf("script answered %v", res)
		}
		return res, err
	}
}

// Denied counts a send refused for want of the send claim.
func (i *RedisInbox) Denied() { i.opts.Metrics.Enqueued.WithLabelValues(EnqueueDenied).Inc() }
