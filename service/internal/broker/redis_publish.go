package broker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// retryKeyTTL is how long Redis remembers the idempotency key the broker
// generates for a publish that came without one. The key only has to cover
// the broker's own retry (publishRetries), sent within one opTimeout of the
// first attempt; a minute also covers a Redis that stalls between running
// the two. Caller keys live protocol.IdempotencyWindow.
const retryKeyTTL = time.Minute

// generatedKeyPrefix marks the keys the broker generates (32 random hex
// digits follow) in Redis; a caller's key would clash only by guessing them.
const generatedKeyPrefix = "gen:"

// Publish runs the publish script: one Redis round trip per publication,
// plus in durable mode a WAIT in the same round trip and a commit.
//
// The script is never sent twice by go-redis (noRetryCmd): after a timeout
// or a broken connection, the first copy may still run. Every publish
// carries an idempotency key instead, the caller's or one generated here,
// and the broker retries once itself after a broken connection: the key
// makes that retry answer the first copy's position if it ran. In Cluster
// mode no key is generated (a new key in a migrating slot is refused with
// TRYAGAIN, which would fail every publish to that slot during a move), so
// there a publish without a caller key is not retried at all.
func (r *Redis) Publish(ctx context.Context, ch string, data []byte, o protocol.PublishOptions) (protocol.Position, error) {
	key, ttl := o.IdempotencyKey, protocol.IdempotencyWindow
	if key == "" && r.cluster == nil {
		key, ttl = generatedKeyPrefix+newEpochID()+newEpochID(), retryKeyTTL
	}
	pos, err := r.publishOnce(ctx, ch, encodeBody(data, o), key, ttl)
	if err != nil {
		return protocol.Position{}, fmt.Errorf("publish %s: %w", ch, err)
	}
	return pos, nil
}

// publishRetries is how often Publish sends the script again after a broken
// connection (a stale pooled one after a Redis restart, say), always with
// the same idempotency key.
const publishRetries = 1

// publishOnce runs the script (and in durable mode WAIT and the commit)
// through the breaker, sending it again after a broken connection when it
// has a key.
func (r *Redis) publishOnce(ctx context.Context, ch string, body []byte, key string, ttl time.Duration) (protocol.Position, error) {
	durable := r.opts.MinReplicas > 0
	cmd := "PUBLISH"
	if r.cluster != nil {
		cmd = "SPUBLISH"
	}
	args := []any{body, r.opts.HistorySize, r.opts.HistoryTTL.Milliseconds(), r.opts.MetaTTL.Milliseconds(),
		newEpochID(), pubsubName(ch), "1", ttl.Milliseconds(), cmd, flag(r.cluster == nil), flag(durable),
		key, idempotencyCap(r.opts.HistorySize), protocol.IdempotencyWindow.Milliseconds()}
	keys := []string{metaKey(ch), streamKey(ch), idemKeysKey(ch), idemOrderKey(ch)}
	if key == "" {
		keys[2], keys[3], args[6] = metaKey(ch), metaKey(ch), "0"
	}
	var res []any
	var acked int64
	err := r.g.doFor(ctx, "publish", opTimeout+r.opts.ReplicaTimeout, func(ctx context.Context) error {
		var err error
		for attempt := 0; ; attempt++ {
			res, acked, err = r.runPublish(ctx, keys, args, durable)
			if err == nil || key == "" || attempt == publishRetries || !brokenConn(err) || ctx.Err() != nil {
				return err
			}
		}
	})
	if err != nil {
		return protocol.Position{}, err
	}
	off, _ := res[0].(int64)
	epoch, _ := res[1].(string)
	pos := protocol.Position{Offset: uint64(off), Epoch: epoch}
	if !durable {
		return pos, nil
	}
	if acked < int64(r.opts.MinReplicas) {
		r.opts.Metrics.Errors.WithLabelValues("publish").Inc() // the breaker does not count it: Redis answered
		return protocol.Position{}, fmt.Errorf("%d of %d replicas hold offset %d within %v; it may have been applied, retry with the same idempotency key: %w",
			acked, r.opts.MinReplicas, off, r.opts.ReplicaTimeout, protocol.ErrUnavailable)
	}
	msg := ""
	if repeat, _ := res[2].(int64); repeat == 0 {
		msg = strconv.FormatInt(off, 10) + "\n" + epoch + "\n" + string(body)
	}
	return pos, r.g.do(ctx, "publish", func(ctx context.Context) error {
		return commitScript.Run(ctx, r.rdb, []string{metaKey(ch)}, off, epoch, pubsubName(ch), msg, cmd).Err()
	})
}

// runPublish sends the script and, in durable mode, then WAIT on the same
// connection, so that WAIT counts the replicas holding this very write. (One
// pipeline would save a round trip, but go-redis reads a pipeline's replies
// within ReadTimeout, which a WAIT may outlast.)
func (r *Redis) runPublish(ctx context.Context, keys []string, args []any, durable bool) ([]any, int64, error) {
	if !durable {
		res, err := evalNoRetry(ctx, r.rdb, keys, args)
		return res, 0, err
	}
	c, err := r.masterFor(ctx, keys[0])
	if err != nil {
		return nil, 0, err
	}
	conn := c.Conn()
	defer conn.Close()
	res, err := evalNoRetry(ctx, conn, keys, args)
	if err != nil {
		return nil, 0, err
	}
	acked, err := conn.Wait(ctx, r.opts.MinReplicas, r.opts.ReplicaTimeout).Result()
	return res, acked, err
}

// scriptConn is the broker's client or one connection of it.
type scriptConn interface {
	redis.Scripter
	Process(ctx context.Context, cmd redis.Cmder) error
}

// evalNoRetry runs the publish script with EVALSHA, as a noRetryCmd. A
// NOSCRIPT answer (a new master, a flushed script cache) means nothing ran:
// the script is loaded and sent again, once.
func evalNoRetry(ctx context.Context, c scriptConn, keys []string, args []any) ([]any, error) {
	for loaded := false; ; loaded = true {
		cmd := noRetryCmd{redis.NewCmd(ctx, append([]any{"evalsha", publishScript.Hash(), len(keys)}, append(toAny(keys), args...)...)...)}
		cmd.SetFirstKeyPos(3)
		_ = c.Process(ctx, cmd)
		if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") && !loaded {
			if err := publishScript.Load(ctx, c).Err(); err != nil {
				return nil, err
			}
			continue
		}
		res, err := cmd.Slice()
		if err == nil && len(res) < 3 {
			err = fmt.Errorf("publish script answered %v", res)
		}
		return res, err
	}
}

// masterFor returns the client of the master holding key: the client
// itself, or in Cluster mode that shard's. Such a shard client does not
// follow MOVED or ASK (a slot on the move): the publish then fails with
// unavailable (isSlotBusy) and the caller retries.
func (r *Redis) masterFor(ctx context.Context, key string) (*redis.Client, error) {
	if r.cluster != nil {
		return r.cluster.MasterForKey(ctx, key)
	}
	return r.rdb.(*redis.Client), nil
}

// noRetryCmd is a command that go-redis must never send a second time: a
// script that timed out or lost its connection may still run, and a second
// copy would run too.
type noRetryCmd struct{ *redis.Cmd }

// NoRetry tells go-redis not to retry the command.
func (noRetryCmd) NoRetry() bool { return true }

// brokenConn reports whether err is a connection that broke (or could not be
// made) rather than a timeout or an answer: the one case where the broker
// sends a publish again at once. A timeout means a slow or stopped Redis,
// where a second copy would only queue up behind the first.
func brokenConn(err error) bool {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case errors.As(err, &ne) && ne.Timeout():
		return false
	}
	var oe *net.OpError
	return errors.As(err, &oe)
}

// flag is a boolean script argument.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
