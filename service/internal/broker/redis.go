package broker

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// RedisOptions configure the cluster broker.
type RedisOptions struct {
	URL         string // redis://, rediss://, redis-sentinel://, redis-cluster://
	HistorySize int
	HistoryTTL  time.Duration
	MetaTTL     time.Duration            // 0: DefaultMetaTTL
	Node        func() protocol.NodeInfo // this node, for the registry
	Log         *slog.Logger
	Metrics     *Metrics

	// MinReplicas > 0 is durable mode: a publish is acknowledged only once
	// that many replicas hold it (WAIT, for at most ReplicaTimeout), and is
	// visible to nobody before; otherwise it answers ErrUnavailable. See
	// redis_lineage.go.
	MinReplicas    int
	ReplicaTimeout time.Duration
}

// Redis is the cluster broker: offsets, epochs and history live in Redis,
// publications reach every node through Redis pub/sub (sharded pub/sub in
// Cluster mode), and every call goes through a circuit breaker so that an
// outage fails fast with protocol.ErrUnavailable and never hangs.
//
// Run owns the background loops (pub/sub receivers, heartbeats, position
// checks); the methods are safe for concurrent use.
type Redis struct {
	opts RedisOptions
	rdb  redis.UniversalClient
	// cluster is rdb in Cluster mode (sharded pub/sub, per-master
	// subscriber connections), nil otherwise.
	cluster *redis.ClusterClient
	g       *guard

	subs *subscriptions
	pres *localPresence
}

// NewRedis connects nothing yet: it parses the URL and builds the client.
// Run starts the loops.
func NewRedis(opts RedisOptions, h Handler) (*Redis, error) {
	rdb, cluster, err := newUniversalClient(opts.URL)
	if err != nil {
		return nil, err
	}
	if opts.MetaTTL == 0 {
		opts.MetaTTL = DefaultMetaTTL
	}
	// go-redis logs (dial failures, failovers) through one process-wide
	// logger; route it into ours. There is one broker per process.
	redis.SetLogger(redisLogger{opts.Log})
	r := &Redis{opts: opts, rdb: rdb, g: newGuard(opts.Metrics, opts.Log), pres: newLocalPresence()}
	if cluster {
		r.cluster = rdb.(*redis.ClusterClient)
	}
	r.subs = newSubscriptions(pubsubDeps{rdb: rdb, cluster: r.cluster, guard: r.g, history: r.History,
		metaTTL: opts.MetaTTL, h: h, log: opts.Log, pubsubErrors: opts.Metrics.Errors.WithLabelValues("pubsub")})
	return r, nil
}

// Run runs the pub/sub receivers and the periodic loops until ctx is done.
func (r *Redis) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	for _, loop := range []func(context.Context){r.subs.run, r.heartbeat, r.refreshPresence, r.subs.checkPositions} {
		wg.Add(1)
		go func() { defer wg.Done(); loop(ctx) }()
	}
	wg.Wait()
	return nil
}

// Close releases the client's connections.
func (r *Redis) Close() error { return r.rdb.Close() }

// History runs the history script.
func (r *Redis) History(ctx context.Context, ch string, q protocol.HistoryQuery) (protocol.History, error) {
	mode := "latest"
	switch {
	case q.IsPositionOnly():
		mode = "position"
	case q.HasSince:
		mode = "since"
	}
	var res []any
	err := r.g.do(ctx, "history", func(ctx context.Context) error {
		var err error
		res, err = historyScript.Run(ctx, r.rdb, []string{metaKey(ch), streamKey(ch)},
			newEpochID(), redisEmptyTTL(r.opts.MetaTTL).Milliseconds(), mode, q.Since, q.Limit, max(q.MaxBytes, 0),
			flag(r.cluster == nil), flag(r.opts.MinReplicas > 0)).Slice()
		return err
	})
	if err != nil {
		return protocol.History{}, fmt.Errorf("history %s: %w", ch, err)
	}
	return decodeHistory(ch, res, mode == "latest" && q.MaxBytes <= 0)
}

// decodeHistory turns the script's answer into ascending publications.
func decodeHistory(ch string, res []any, newestFirst bool) (protocol.History, error) {
	off, _ := res[0].(int64)
	epoch, _ := res[1].(string)
	entries, _ := res[2].([]any)
	// Never nil, as Memory answers: an empty history is an empty list.
	var truncated int64
	if len(res) > 3 {
		truncated, _ = res[3].(int64)
	}
	h := protocol.History{Position: protocol.Position{Offset: uint64(off), Epoch: epoch},
		Publications: make([]*protocol.Publication, 0, len(entries)), Truncated: truncated == 1}
	for i := range entries {
		e := entries[i]
		if newestFirst {
			e = entries[len(entries)-1-i]
		}
		p, err := decodeEntry(ch, e)
		if err != nil {
			return protocol.History{}, fmt.Errorf("history %s: %w", ch, err)
		}
		h.Publications = append(h.Publications, p)
	}
	return h, nil
}

// decodeEntry decodes one stream entry: [id, ["p", payload]].
func decodeEntry(ch string, e any) (*protocol.Publication, error) {
	pair, _ := e.([]any)
	if len(pair) != 2 {
		return nil, errPayload
	}
	fields, _ := pair[1].([]any)
	if len(fields) != 2 {
		return nil, errPayload
	}
	s, _ := fields[1].(string)
	return decodePayload(ch, s)
}

// Subscribe makes this node receive ch's publications (reference-counted:
// every successful Subscribe needs one Unsubscribe).
func (r *Redis) Subscribe(ctx context.Context, ch string) error { return r.subs.subscribe(ctx, ch) }

// Unsubscribe releases one Subscribe.
func (r *Redis) Unsubscribe(_ context.Context, ch string) error {
	r.subs.unsubscribe(ch)
	return nil
}

// redisLogger adapts slog to go-redis's logger. Its lines repeat what the
// breaker and the metrics already say, so they are debug level.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(_ context.Context, format string, v ...any) {
	l.log.Debug(fmt.Sprintf(format, v...), "component", "go-redis")
}

// newEpochID is a fresh epoch, offered to the scripts for a channel whose
// meta is gone; an existing channel keeps its epoch.
func newEpochID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
