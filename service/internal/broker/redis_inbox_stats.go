package broker

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// statsTimeout bounds the Redis reads of one scrape.
const statsTimeout = time.Second

// topicStats remembers the topics this node sent to (at most
// maxSeenTopics) and reads their lag and oldest message on scrape.
type topicStats struct {
	i    *RedisInbox
	mu   sync.Mutex
	seen map[string]struct{}
}

type topicStat struct {
	topic  string
	lag    int64
	oldest time.Duration
}

func newTopicStats(i *RedisInbox) *topicStats {
	return &topicStats{i: i, seen: map[string]struct{}{}}
}

// saw records a topic; beyond maxSeenTopics new ones are not tracked.
func (ts *topicStats) saw(topic string) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	if len(ts.seen) < maxSeenTopics {
		ts.seen[topic] = struct{}{}
	}
}

// read computes every seen topic's stats in one pipeline: XLEN and the
// first entry of each partition (consumed entries are deleted, so the first
// is the oldest unconsumed). A topic that cannot be read is left out of
// this scrape.
func (ts *topicStats) read() []topicStat {
	ts.mu.Lock()
	topics := make([]string, 0, len(ts.seen))
	for t := range ts.seen {
		topics = append(topics, t)
	}
	ts.mu.Unlock()
	if len(topics) == 0 {
		// Nothing to read: no round trip, and none counted in
		// wsgateway_redis_op_duration_seconds{op="inbox"}, which would
		// otherwise tick on every scrape of a node that never saw a send.
		return nil
	}
	slices.Sort(topics)
	ctx, cancel := context.WithTimeout(context.Background(), statsTimeout)
	defer cancel()
	type partCmds struct {
		xlen  *redis.IntCmd
		first *redis.XMessageSliceCmd
	}
	cmds := make([][]partCmds, len(topics))
	_ = ts.i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		_, err := ts.i.r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for k, t := range topics {
				ts.i.mu.Lock()
				n := ts.i.parts[t].n
				ts.i.mu.Unlock()
				for part := range n {
					s := streams.Part{Group: t, N: part}.Stream()
					cmds[k] = append(cmds[k], partCmds{p.XLen(ctx, s), p.XRangeN(ctx, s, "-", "+", 1)})
				}
			}
			return nil
		})
		return err
	})
	now := time.Now()
	out := make([]topicStat, 0, len(topics))
	for k, t := range topics {
		st, ok := topicStat{topic: t}, len(cmds[k]) > 0
		for _, c := range cmds[k] {
			n, err1 := c.xlen.Result()
			first, err2 := c.first.Result()
			if err1 != nil && err1 != redis.Nil || err2 != nil && err2 != redis.Nil {
				ok = false
				break
			}
			st.lag += n
			if len(first) > 0 {
				st.oldest = max(st.oldest, now.Sub(time.UnixMilli(entryMS(first[0].ID))))
			}
		}
		if ok {
			out = append(out, st)
		}
	}
	return out
}

// entryMS is the millisecond part of a stream entry id.
func entryMS(id string) int64 {
	ms, _, _ := strings.Cut(id, "-")
	n, _ := strconv.ParseInt(ms, 10, 64)
	return n
}
