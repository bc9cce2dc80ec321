package broker

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// Liveness of cluster state written by a node: a node refreshes its entries
// every refreshEvery; entries of a node that stopped (killed) expire after
// entryTTL, so presence and the node list heal on their own.
//
// They are variables only so that a test can shorten them (to see a dead
// node's entries expire in a second rather than 20); nothing else writes
// them, and refreshEvery must stay well under entryTTL.
var (
	refreshEvery = 5 * time.Second
	entryTTL     = 20 * time.Second
)

// localPresence remembers this node's presence entries so that it can
// refresh their expiry; entries of a dead node are not refreshed and expire.
type localPresence struct {
	mu      sync.Mutex
	entries map[string]map[string]string // channel -> client -> info JSON
}

func newLocalPresence() *localPresence {
	return &localPresence{entries: map[string]map[string]string{}}
}

// AddPresence records info under ch.
func (r *Redis) AddPresence(ctx context.Context, ch string, info protocol.ClientInfo) error {
	b, _ := json.Marshal(info) // plain strings: cannot fail
	r.pres.mu.Lock()
	if r.pres.entries[ch] == nil {
		r.pres.entries[ch] = map[string]string{}
	}
	r.pres.entries[ch][info.Client] = string(b)
	r.pres.mu.Unlock()
	return r.g.do(ctx, "presence_add", func(ctx context.Context) error {
		_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			writePresence(ctx, p, ch, info.Client, string(b))
			return nil
		})
		return err
	})
}

func writePresence(ctx context.Context, p redis.Pipeliner, ch, client, info string) {
	exp := time.Now().Add(entryTTL)
	p.ZAdd(ctx, presenceKey(ch), redis.Z{Score: float64(exp.UnixMilli()), Member: client})
	p.HSet(ctx, presInfoKey(ch), client, info)
	p.PExpire(ctx, presenceKey(ch), entryTTL)
	p.PExpire(ctx, presInfoKey(ch), entryTTL)
}

// RemovePresence deletes client's entry under ch.
func (r *Redis) RemovePresence(ctx context.Context, ch, client string) error {
	r.pres.mu.Lock()
	delete(r.pres.entries[ch], client)
	if len(r.pres.entries[ch]) == 0 {
		delete(r.pres.entries, ch)
	}
	r.pres.mu.Unlock()
	return r.g.do(ctx, "presence_remove", func(ctx context.Context) error {
		_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
			p.ZRem(ctx, presenceKey(ch), client)
			p.HDel(ctx, presInfoKey(ch), client)
			return nil
		})
		return err
	})
}

// Presence lists ch's live entries, cluster-wide, sorted by client id.
func (r *Redis) Presence(ctx context.Context, ch string) ([]protocol.ClientInfo, error) {
	var vals []any
	err := r.g.do(ctx, "presence", func(ctx context.Context) error {
		var err error
		vals, err = presenceScript.Run(ctx, r.rdb, []string{presenceKey(ch), presInfoKey(ch)}, time.Now().UnixMilli()).Slice()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("presence %s: %w", ch, err)
	}
	out := decodeInfos[protocol.ClientInfo](vals)
	slices.SortFunc(out, func(a, b protocol.ClientInfo) int { return strings.Compare(a.Client, b.Client) })
	return out, nil
}

// refreshPresence keeps this node's presence entries alive.
func (r *Redis) refreshPresence(ctx context.Context) {
	every(ctx, refreshEvery, func() {
		r.pres.mu.Lock()
		snap := make(map[string]map[string]string, len(r.pres.entries))
		for ch, m := range r.pres.entries {
			snap[ch] = make(map[string]string, len(m))
			for c, info := range m {
				snap[ch][c] = info
			}
		}
		r.pres.mu.Unlock()
		if len(snap) == 0 {
			return
		}
		_ = r.g.do(ctx, "presence_add", func(ctx context.Context) error {
			_, err := r.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
				for ch, m := range snap {
					for c, info := range m {
						writePresence(ctx, p, ch, c, info)
					}
				}
				return nil
			})
			return err
		})
	})
}

// heartbeat keeps this node in the registry that Nodes reads.
func (r *Redis) heartbeat(ctx context.Context) {
	beat := func() {
		info := r.opts.Node()
		b, _ := json.Marshal(info)
		_ = r.g.do(ctx, "nodes", func(ctx context.Context) error {
			_, err := r.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
				p.ZAdd(ctx, nodesKey, redis.Z{Score: float64(time.Now().Add(entryTTL).UnixMilli()), Member: info.Node})
				p.HSet(ctx, nodesInfoKey, info.Node, string(b))
				return nil
			})
			return err
		})
	}
	beat()
	every(ctx, refreshEvery, beat)
}

// Nodes lists the nodes whose heartbeat is recent.
func (r *Redis) Nodes(ctx context.Context) ([]protocol.NodeInfo, error) {
	var vals []any
	err := r.g.do(ctx, "nodes", func(ctx context.Context) error {
		var err error
		vals, err = presenceScript.Run(ctx, r.rdb, []string{nodesKey, nodesInfoKey}, time.Now().UnixMilli()).Slice()
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	out := decodeInfos[protocol.NodeInfo](vals)
	slices.SortFunc(out, func(a, b protocol.NodeInfo) int { return strings.Compare(a.Node, b.Node) })
	return out, nil
}

// Disconnect asks every node, this one included, to close user's connections.
func (r *Redis) Disconnect(ctx context.Context, user string) error {
	return r.g.do(ctx, "disconnect", func(ctx context.Context) error {
		return r.rdb.Publish(ctx, controlChannel, "disconnect\n"+user).Err()
	})
}

// handleControl handles a message on the control channel, which carries
// Disconnect's requests to every node.
func handleControl(h Handler, payload string) {
	if user, ok := strings.CutPrefix(payload, "disconnect\n"); ok {
		h.HandleDisconnect(user)
	}
}

// decodeInfos decodes the JSON strings of a script answer, skipping holes
// (an entry removed between the two reads of the script).
func decodeInfos[T any](vals []any) []T {
	out := make([]T, 0, len(vals))
	for _, v := range vals {
		s, ok := v.(string)
		var t T
		if ok && json.Unmarshal([]byte(s), &t) == nil {
			out = append(out, t)
		}
	}
	return out
}

func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			fn()
		}
	}
}
