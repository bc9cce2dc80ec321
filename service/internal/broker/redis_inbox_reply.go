package broker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/wsgateway/wsgateway/service/internal/telemetry"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// conns set liveness: refreshed every connsRefresh, gone connsTTL after the
// node stopped refreshing it (killed), so replies to its clients answer 404.
const (
	connsRefresh = 5 * time.Second
	connsTTL     = 20 * time.Second
)

// replyMsg is what travels on a node's reply channel (streams.NodeChannel).
type replyMsg struct {
	Client string          `json:"client"`
	ID     string          `json:"id"`
	Data   json.RawMessage `json:"data,omitempty"`
	Error  *protocol.Error `json:"error,omitempty"`
	// TraceParent is the API reply span's, when sampled: the delivery span
	// on the sender's node continues it.
	TraceParent string `json:"traceparent,omitempty"`
}

// join adds client to this node's conns set on its first send, before the
// message is queued, so that a worker's reply finds it. Only clients that
// send are members: a connect costs the inbox nothing.
func (i *RedisInbox) join(ctx context.Context, client string) error {
	i.mu.Lock()
	_, ok := i.clients[client]
	i.mu.Unlock()
	if ok {
		return nil
	}
	key := streams.NodeConnsKey(i.opts.Node)
	err := i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		_, err := i.r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.SAdd(ctx, key, client)
			p.Expire(ctx, key, connsTTL)
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	i.mu.Lock()
	i.clients[client] = struct{}{}
	i.mu.Unlock()
	return nil
}

// Forget removes a client that closed from the conns set: from then on a
// reply to it answers 404. If Redis is down meanwhile, the member stays
// until the set expires or the next refresh rewrites it without the client,
// and the node drops such a reply (RepliesPushed not_found).
func (i *RedisInbox) Forget(client string) {
	i.mu.Lock()
	_, ok := i.clients[client]
	delete(i.clients, client)
	i.mu.Unlock()
	if !ok {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	_ = i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		return i.r.rdb.SRem(ctx, streams.NodeConnsKey(i.opts.Node), client).Err()
	})
}

// Run listens on this node's reply channel and keeps its conns set alive
// until ctx is done.
func (i *RedisInbox) Run(ctx context.Context) error {
	go every(ctx, connsRefresh, func() { i.refreshConns(ctx) })
	ps := i.r.rdb.Subscribe(ctx, streams.NodeChannel(i.opts.Node))
	defer ps.Close()
	ch := ps.Channel(redis.WithChannelSize(1024))
	for {
		select {
		case <-ctx.Done():
			return nil
		case msg, ok := <-ch:
			if !ok {
				return nil
			}
			i.deliver(msg.Payload)
		}
	}
}

// deliver pushes one reply to its local client.
func (i *RedisInbox) deliver(payload string) {
	var m replyMsg
	if err := json.Unmarshal([]byte(payload), &m); err != nil || m.Client == "" {
		i.opts.Log.Error("undecodable reply on the node channel", "err", err)
		return
	}
	var span trace.Span
	if i.opts.Tracer != nil && m.TraceParent != "" { // untraced replies cost nothing here
		span = i.startDelivery(&m)
	}
	result := ReplyDelivered
	if !i.opts.Deliver(m.Client, protocol.AppendReplyPush(nil, m.ID, m.Data, m.Error)) {
		result = ReplyNotFound
	}
	i.opts.Metrics.RepliesPushed.WithLabelValues(result).Inc()
	if span != nil {
		if result != ReplyDelivered {
			span.SetStatus(codes.Error, result)
		}
		span.End()
	}
}

// startDelivery starts this node's span for pushing reply m to its sender,
// a child of the API's reply span on whichever node took the reply.
func (i *RedisInbox) startDelivery(m *replyMsg) trace.Span {
	topic, _, _, _ := streams.ParseID(m.ID) // the replying node parsed it
	ctx := telemetry.FromTraceParent(context.Background(), m.TraceParent)
	_, span := i.opts.Tracer.Start(ctx, telemetry.SpanName("deliver reply", topic),
		trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(telemetry.System, telemetry.OpDeliver, telemetry.Destination(topic),
			attribute.Bool("wsgateway.reply.error", m.Error != nil)))
	return span
}

// refreshConns rewrites the conns set's members and expiry.
func (i *RedisInbox) refreshConns(ctx context.Context) {
	i.mu.Lock()
	members := make([]any, 0, len(i.clients))
	for c := range i.clients {
		members = append(members, c)
	}
	i.mu.Unlock()
	if len(members) == 0 {
		return
	}
	key := streams.NodeConnsKey(i.opts.Node)
	_ = i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		_, err := i.r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for start := 0; start < len(members); start += 1000 {
				p.SAdd(ctx, key, members[start:min(start+1000, len(members))]...)
			}
			p.Expire(ctx, key, connsTTL)
			return nil
		})
		return err
	})
}

// Reply routes a worker's answer to the sender of message id: on whichever
// node the sender is connected to, as a reply push. It answers not_found
// when the message is unknown (or older than streams.SenderTTL) or its
// sender is no longer connected. Exactly one of data and e is used (e when
// set).
func (i *RedisInbox) Reply(ctx context.Context, id string, data json.RawMessage, e *protocol.Error) error {
	err := i.reply(ctx, id, data, e)
	switch {
	case err == nil:
		i.opts.Metrics.Replies.WithLabelValues(ReplyDelivered).Inc()
	case errors.Is(err, protocol.ErrNotFound):
		i.opts.Metrics.Replies.WithLabelValues(ReplyNotFound).Inc()
	}
	return err
}

func (i *RedisInbox) reply(ctx context.Context, id string, data json.RawMessage, e *protocol.Error) error {
	topic, n, entry, err := streams.ParseID(id)
	if err != nil || topic == streams.Events {
		return protocol.Errorf(protocol.CodeBadRequest, "invalid message id %q", id)
	}
	gone := fmt.Errorf("reply to %s: the sender is gone: %w", id, protocol.ErrNotFound)
	var snd string
	err = i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		snd, err = i.r.rdb.Get(ctx, streams.Part{Group: topic, N: n}.Sender(entry)).Result()
		return err
	})
	if errors.Is(err, redis.Nil) {
		return gone
	}
	if err != nil {
		return fmt.Errorf("reply to %s: %w", id, err)
	}
	node, client, ok := strings.Cut(snd, "\t")
	if !ok {
		return gone
	}
	b, _ := json.Marshal(replyMsg{Client: client, ID: id, Data: data, Error: e, // plain values: cannot fail
		TraceParent: telemetry.TraceParent(ctx)})
	var member bool
	var receivers int64
	err = i.r.g.do(ctx, "inbox", func(ctx context.Context) error {
		var err error
		if member, err = i.r.rdb.SIsMember(ctx, streams.NodeConnsKey(node), client).Result(); err != nil || !member {
			return err
		}
		receivers, err = i.r.rdb.Publish(ctx, streams.NodeChannel(node), b).Result()
		return err
	})
	if err != nil {
		return fmt.Errorf("reply to %s: %w", id, err)
	}
	// In Cluster mode PUBLISH counts only the subscribers of the shard it
	// ran on, not the node's, so there the conns set alone decides.
	if !member || (receivers == 0 && i.r.cluster == nil) {
		return gone
	}
	return nil
}
