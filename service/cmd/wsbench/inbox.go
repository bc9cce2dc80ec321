package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// -suite inbox measures issue 13's figures (docs/benchmarks.md, "Inbox and
// events") on one gateway node, its Redis and this process:
//   - the round trip send -> worker -> reply push, with inboxWorkerCounts
//     workers (the Go worker library, in this process) and inboxSenders
//     WebSocket clients of distinct users, each with one send in flight;
//     the Redis CPU over the window (INFO cpu) gives messages per Redis
//     core;
//   - a connect storm of -conns clients (10,000 by default), all opened as
//     fast as the dialer goes, then all closed, with the lifecycle events
//     flowing to the events stream and to a webhook receiver in this
//     process, until the webhook backlog is zero again.
var inboxWorkerCounts = []int{1, 3}

// inboxSenders is the number of sending clients, each a user of its own
// (one user's messages are one partition's, handled in order by one
// worker, so a single user could not use a second worker).
const inboxSenders = 12

// inboxJWTSecret signs the senders' tokens; --dev still lets the storm's
// clients connect without one, and leaves the API without a key.
const inboxJWTSecret = "wsbench-inbox-secret-0123456789abcdef"

// inboxWebhookSecret is a well-formed Standard Webhooks key; the receiver
// counts events and does not check signatures (the events tests do).
const inboxWebhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// drainLimit bounds the wait for the webhook backlog after the storm.
const drainLimit = 5 * time.Minute

// runInbox starts Redis, the webhook receiver and one node, runs the round
// trip with each worker count and then the storm, one JSON line each, and
// stops everything it started, by PID.
func runInbox(ctx context.Context, log *slog.Logger, cfg config, stdout io.Writer) int {
	rds, err := redistest.Run(redistest.Options{})
	if err != nil {
		log.Error("start redis-server", "err", err)
		return 1
	}
	defer rds.Close()
	recv, err := startEventReceiver()
	if err != nil {
		log.Error("webhook receiver", "err", err)
		return 1
	}
	defer recv.srv.Close()
	args := append(slices.Clone(suiteGatewayArgs), "--redis-url", rds.URL(), "--jwt-secret", inboxJWTSecret,
		"--command-rate", "0", "--webhook-url", recv.url, "--webhook-secret", inboxWebhookSecret)
	node, err := gatewaytest.Launch(gatewaytest.Options{Args: append(args, cfg.gatewayArgs...)})
	if err != nil {
		log.Error("start the gateway", "err", err)
		return 1
	}
	defer func() {
		if err := node.Close(); err != nil {
			log.Warn("stop the gateway", "err", err)
		}
	}()
	rdb := redis.NewClient(&redis.Options{Addr: strings.TrimPrefix(rds.URL(), "redis://")})
	defer rdb.Close()
	log.Info("gateway ready", "pid", node.PID(), "redis_pid", rds.PID(), "client", node.Client)
	cfg.url, cfg.api, cfg.serverPID = node.URL(), node.APIURL(), node.PID()
	env := inboxEnv{node: node, redisURL: rds.URL(), rdb: rdb, redisPID: rds.PID()}
	code := 0
	for _, w := range inboxWorkerCounts {
		log.Info("inbox round trip", "workers", w, "senders", inboxSenders)
		r := runRoundTrip(ctx, log, cfg, env, w)
		code = max(code, emit(stdout, log, outcome{res: r, failed: r.Error != ""}))
		if ctx.Err() != nil || sleep(ctx, settle) != nil {
			return 1
		}
	}
	log.Info("connect storm", "clients", cfg.conns)
	r := runStorm(ctx, log, cfg, env, recv)
	return max(code, emit(stdout, log, outcome{res: r, failed: r.Error != ""}))
}

// inboxEnv is what the phases share: the node and its Redis.
type inboxEnv struct {
	node     *gatewaytest.Node
	redisURL string
	rdb      *redis.Client
	redisPID int
}

// redisCPU reads Redis's own CPU time (used_cpu_sys + used_cpu_user of
// INFO cpu: every thread of the server).
func redisCPU(ctx context.Context, rdb *redis.Client) (time.Duration, error) {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		return 0, fmt.Errorf("INFO cpu: %w", err)
	}
	var total float64
	found := 0
	for line := range strings.SplitSeq(info, "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return 0, fmt.Errorf("INFO cpu %s=%q: %w", k, v, err)
		}
		total += f
		found++
	}
	if found != 2 {
		return 0, fmt.Errorf("INFO cpu: no used_cpu_sys and used_cpu_user in %q", info)
	}
	return time.Duration(total * float64(time.Second)), nil
}
