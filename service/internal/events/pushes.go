package events

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// pushChannel is the Redis Pub/Sub channel that carries join and leave
// pushes to every node: "<channel>\n<client>\n<push line>". It is plain
// (not sharded) Pub/Sub, so on Cluster every node hears every push; only
// the namespaces in --join-leave-namespaces produce any.
const pushChannel = "wsg:events:joinleave"

// JoinLeave configures the join and leave pushes.
type JoinLeave struct {
	// Namespaces whose channels' subscribers get the pushes; empty: none.
	Namespaces []string
	// Client is the Redis client the pushes travel through.
	Client redis.UniversalClient
	// Deliver queues line to channel's local subscribers but except's own
	// connection (session.Manager.PushToSubscribers); it must not block.
	Deliver func(channel, except string, line []byte)
}

func (j JoinLeave) enabled(channel string) bool {
	if len(j.Namespaces) == 0 {
		return false
	}
	ns := protocol.Namespace(channel)
	for _, n := range j.Namespaces {
		if n == ns {
			return true
		}
	}
	return false
}

// publishPushes sends the join and leave pushes of the presence events in
// evs: they follow what the scripts emitted, so a connection lost with its
// node also gives a leave (from the sweep).
func (e *Emitter) publishPushes(ctx context.Context, evs []broker.Emitted) {
	j := e.opts.JoinLeave
	var msgs []string
	for _, ev := range evs {
		kind := ""
		switch ev.Type {
		case "presence.join":
			kind = protocol.PushJoin
		case "presence.leave":
			kind = protocol.PushLeave
		}
		if kind == "" || !j.enabled(ev.Channel) {
			continue
		}
		line := protocol.AppendJoinLeave(nil, kind, ev.Channel, ev.User, ev.Client)
		msgs = append(msgs, ev.Channel+"\n"+ev.Client+"\n"+string(line))
	}
	if len(msgs) == 0 {
		return
	}
	_, err := j.Client.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, m := range msgs {
			p.Publish(ctx, pushChannel, m)
		}
		return nil
	})
	if err != nil {
		e.opts.Log.Debug("join/leave pushes lost", "err", err, "pushes", len(msgs))
	}
}

// receivePushes delivers the pushes every node publishes to this node's
// subscribers until ctx is done. go-redis re-subscribes after a lost
// connection; pushes sent meanwhile are lost (they are ephemeral).
func (j JoinLeave) receivePushes(ctx context.Context) {
	ps := j.Client.Subscribe(ctx, pushChannel)
	defer ps.Close()
	msgs := ps.Channel()
	for {
		select {
		case <-ctx.Done():
			return
		case m, ok := <-msgs:
			if !ok {
				return
			}
			ch, rest, _ := strings.Cut(m.Payload, "\n")
			client, line, ok := strings.Cut(rest, "\n")
			if ok {
				j.Deliver(ch, client, []byte(line))
			}
		}
	}
}
