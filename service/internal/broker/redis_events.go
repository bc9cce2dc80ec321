package broker

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/streams"
)

// Lifecycle state lives in Redis, cluster-wide, in the partitions of the
// events stream group (streams-design.md "Events"): the events package
// decides what changed on this node; the scripts here compute what that
// means for the cluster (first connection of a user, last subscriber of a
// channel) and append the events in the same atomic step. The in-process
// broker has no such state: without --redis-url no event is emitted.

// Lifecycle kinds: what an entry stands for.
const (
	KindConn    = "k" // a connection (subject client:<id>)
	KindUser    = "u" // a connection of a user (subject user:<u>)
	KindChannel = "c" // a subscription to a channel (subject channel:<ch>)
)

// LifecycleOp is one change of this node's lifecycle entries.
type LifecycleOp struct {
	Remove                      bool   // false: add (or refresh) the entry; true: remove it
	Kind                        string // KindConn, KindUser or KindChannel
	Client, Node, User, Channel string
	Code                        string // Remove of KindConn: the close code
}

// Subject is the op's event subject and partition key.
func (o LifecycleOp) Subject() string {
	switch o.Kind {
	case KindConn:
		return "client:" + o.Client
	case KindUser:
		return "user:" + o.User
	}
	return "channel:" + o.Channel
}

// Emitted is one event a lifecycle script appended, as ApplyLifecycle and
// SweepLifecycle report it: its type and, for presence.join and
// presence.leave, the channel, user and client (for the join and leave
// pushes).
type Emitted struct {
	Type, Channel, User, Client string
}

// parseEmitted reads the scripts' "type" or "type\tchannel\tuser\tclient".
func parseEmitted(s string) Emitted {
	f := strings.SplitN(s, "\t", 4)
	e := Emitted{Type: f[0]}
	if len(f) == 4 {
		e.Channel, e.User, e.Client = f[1], f[2], f[3]
	}
	return e
}

// LifecycleTiming are the durations the scripts apply.
type LifecycleTiming struct {
	// VacatedDelay is how long an emptied channel waits before
	// channel.vacated; a subscribe within it cancels the event.
	VacatedDelay time.Duration
	// MaxLen bounds each partition stream (approximately, MAXLEN ~): events
	// nobody consumed for that long are dropped oldest first.
	MaxLen int
}

// EntryTTL is how long a lifecycle entry lives unless its node refreshes it
// (every RefreshEvery): the same healing model as presence.
func EntryTTL() time.Duration { return entryTTL }

// RefreshEvery is how often a node must refresh its lifecycle entries.
func RefreshEvery() time.Duration { return refreshEvery }

// EventsClient is the broker's Redis client, shared with the webhook
// sender's consumer of the events stream group.
func (r *Redis) EventsClient() redis.UniversalClient { return r.rdb }

// InitEvents writes the events group's partition count (the first writer
// wins; the stored one is returned) and creates its consumer groups. It is
// cheap and idempotent: the emitter calls it again on every refresh, so a
// Redis that lost its data (a restart without persistence) gets them back.
func (r *Redis) InitEvents(ctx context.Context, partitions int) (int, error) {
	p, err := streams.EnsurePartitions(ctx, r.rdb, streams.Events, partitions)
	if err != nil {
		return 0, err
	}
	var cmds []*redis.StatusCmd
	_, _ = r.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for n := range p {
			key := streams.Part{Group: streams.Events, N: n}.Stream()
			for _, g := range []string{streams.GroupWorkers, streams.GroupWebhook} {
				cmds = append(cmds, pl.XGroupCreateMkStream(ctx, key, g, "0"))
			}
		}
		return nil
	})
	for _, c := range cmds {
		if err := c.Err(); err != nil && !redis.HasErrorPrefix(err, "BUSYGROUP") {
			return 0, fmt.Errorf("events consumer groups: %w", err)
		}
	}
	return p, nil
}

// ApplyLifecycle applies ops in order per partition (one script per
// partition, all pipelined in one round trip) and returns the events they
// emitted. ops of one subject must be in the order they
// happened. A failed call may have applied some partitions: applying the
// same ops again is harmless.
func (r *Redis) ApplyLifecycle(ctx context.Context, partitions int, t LifecycleTiming, ops []LifecycleOp) ([]Emitted, error) {
	now := time.Now()
	byPart := map[int][]any{}
	var order []int
	for _, o := range ops {
		p := streams.Partition(o.Subject(), partitions)
		if byPart[p] == nil {
			order = append(order, p)
			byPart[p] = scriptHead(p, now, t)
		}
		action := "a"
		if o.Remove {
			action = "r"
		}
		byPart[p] = append(byPart[p], action, o.Kind, o.Client, o.Node, o.User, o.Channel, o.Code)
	}
	var out []Emitted
	err := r.g.do(ctx, "events", func(ctx context.Context) error {
		var err error
		out, err = r.runParts(ctx, applyScript, order, byPart)
		return err
	})
	return out, err
}

// SweepLifecycle runs the sweep in every partition; see sweepScript.
func (r *Redis) SweepLifecycle(ctx context.Context, partitions int, t LifecycleTiming) ([]Emitted, error) {
	now := time.Now()
	byPart := make(map[int][]any, partitions)
	order := make([]int, partitions)
	for p := range partitions {
		order[p] = p
		byPart[p] = append(scriptHead(p, now, t), 1000)
	}
	var out []Emitted
	err := r.g.do(ctx, "events", func(ctx context.Context) error {
		var err error
		out, err = r.runParts(ctx, sweepScript, order, byPart)
		return err
	})
	return out, err
}

// scriptHead is the ARGV the lifecycle scripts share.
func scriptHead(p int, now time.Time, t LifecycleTiming) []any {
	part := streams.Part{Group: streams.Events, N: p}
	maxLen := t.MaxLen
	if maxLen <= 0 {
		maxLen = 100000
	}
	return []any{now.UnixMilli(), now.Add(entryTTL).UnixMilli(), now.Add(t.VacatedDelay).UnixMilli(),
		maxLen, part.Key("")}
}

// runParts runs script once per partition in one pipeline. A NOSCRIPT
// answer means that script did not run (a new master, a flushed cache): it
// is loaded and those partitions run again.
func (r *Redis) runParts(ctx context.Context, script *redis.Script, order []int, args map[int][]any) ([]Emitted, error) {
	run := func(parts []int, sha bool) (retry []int, out []Emitted, err error) {
		cmds := make([]*redis.Cmd, len(parts))
		_, _ = r.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
			for i, p := range parts {
				part := streams.Part{Group: streams.Events, N: p}
				keys := []string{part.Stream(), part.Key("seq"), part.Key("exp"), part.Key("vac")}
				if sha {
					cmds[i] = script.EvalSha(ctx, pl, keys, args[p]...)
				} else {
					cmds[i] = script.Eval(ctx, pl, keys, args[p]...)
				}
			}
			return nil
		})
		for i, c := range cmds {
			if sha && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") {
				retry = append(retry, parts[i])
				continue
			}
			types, cerr := c.StringSlice()
			if cerr != nil && cerr != redis.Nil {
				err = fmt.Errorf("events partition %s: %w", strconv.Itoa(parts[i]), cerr)
				continue
			}
			for _, s := range types {
				out = append(out, parseEmitted(s))
			}
		}
		return retry, out, err
	}
	retry, out, err := run(order, true)
	if len(retry) > 0 && err == nil {
		var more []Emitted
		_, more, err = run(retry, false)
		out = append(out, more...)
	}
	return out, err
}
