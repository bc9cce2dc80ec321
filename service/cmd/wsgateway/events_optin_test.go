package main

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// TestEventsOffByDefault: lifecycle events are opt-in (--events). A node on
// Redis without the flag runs none of their machinery: the same connect,
// subscribe, unsubscribe and close that a node with --events reports (the
// control, on its own Redis) leave no events stream or lifecycle key in
// Redis, and no script, stream or sweep command reaches it, not even the
// once-a-second sweep.
func TestEventsOffByDefault(t *testing.T) {
	t.Parallel()
	on, off := redistest.Start(t, redistest.Options{}), redistest.Start(t, redistest.Options{})
	withEvents := eventsNode(t, on.URL(), "node-on")
	plain := startBinary(t, "--redis-url", off.URL(), "--node-id", "node-off", "--jwt-secret", testSecret,
		"--drain-delay", "0s", "--drain-window", "0s")

	// The control: the scenario emits events where they are on.
	client := lifecycleScenario(t, withEvents)
	waitEvents(t, on.Client(), 10*time.Second, "client:"+client, "connection.opened", "connection.closed 1000")
	// The lifecycle scripts' own commands (INFO commandstats counts the
	// commands a script calls): the sessions' presence and recovery scripts
	// call none of them, so on the node without --events any one is a trace
	// of a lifecycle script, an events stream or a sweep.
	lifecycleOnly := []string{"zcard", "hincrby", "xadd", "xgroup|create"}
	control := commandCalls(t, on.Client())
	for _, cmd := range lifecycleOnly {
		if control[cmd] == 0 {
			t.Fatalf("control: the node with --events ran no %s: %v", cmd, control)
		}
	}

	lifecycleScenario(t, plain)
	// Quiet for two sweep periods (sweepEvery is 1 s) after the scenario:
	// an emitter would have swept, and written the closes, by then.
	time.Sleep(2 * time.Second)
	ctx := context.Background()
	if keys, err := off.Client().Keys(ctx, "*events*").Result(); err != nil || len(keys) > 0 {
		t.Errorf("without --events Redis holds events keys %v (err %v), want none", keys, err)
	}
	calls := commandCalls(t, off.Client())
	// ZRANGEBYSCORE too: the sweep's, which the control may not have run yet.
	for _, cmd := range append(lifecycleOnly, "zrangebyscore") {
		if calls[cmd] > 0 {
			t.Errorf("without --events Redis ran %s %d times, want 0 (every command: %v)", cmd, calls[cmd], calls)
		}
	}
}

// lifecycleScenario makes every kind of lifecycle change on g: a user
// connects, subscribes, unsubscribes and closes (1000). It returns the
// connection's client id.
func lifecycleScenario(t *testing.T, g *gw) string {
	t.Helper()
	w, info := connectedAs(t, g, token(t, "ann", time.Hour, []string{"room"}, nil))
	w.subscribeTo("room")
	w.unsubscribeFrom("room")
	w.subscribeTo("room")
	w.closeWith(1000)
	return info.Client
}

// commandCalls reads INFO commandstats: calls by command name, lower case,
// with subcommands as "xgroup|create".
func commandCalls(t *testing.T, rdb redis.UniversalClient) map[string]int {
	t.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		t.Fatalf("INFO commandstats: %v", err)
	}
	calls := map[string]int{}
	for line := range strings.SplitSeq(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimSpace(line), ":")
		name, isCmd := strings.CutPrefix(name, "cmdstat_")
		if !ok || !isCmd {
			continue
		}
		for field := range strings.SplitSeq(rest, ",") {
			if v, ok := strings.CutPrefix(field, "calls="); ok {
				calls[name], _ = strconv.Atoi(v)
			}
		}
	}
	return calls
}
