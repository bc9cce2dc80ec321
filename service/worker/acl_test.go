package worker_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// The library needs nothing beyond the Redis ACL that docs/streams.md
// gives a topic's workers: handle, fail to the dead letters, list them,
// stop cleanly, all as that user.
func TestRunsUnderTheDocumentedACL(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	ctx := context.Background()
	// The rule as docs/streams.md prints it.
	rule := `on >s3cret resetkeys resetchannels ~wsg:{s:orders:* ~wsg:s:orders:* +@read +@stream +set +get +del +pexpire +hincrby +hdel +zadd +zrem +zrangebyscore +zremrangebyscore +eval +evalsha +script|load +ping +hello +auth +client|setname +cluster|slots +cluster|shards`
	args := []any{"ACL", "SETUSER", "orders-worker"}
	for _, f := range strings.Fields(rule) {
		args = append(args, f)
	}
	if err := admin.Do(ctx, args...).Err(); err != nil {
		t.Fatal(err)
	}
	enqueue(t, admin, "orders", 2, "ok", `"fine"`)
	enqueue(t, admin, "orders", 2, "bad", `"poison"`)
	rdb, err := worker.NewRedis("redis://orders-worker:s3cret@" + addr(srv.URL()))
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	handled := make(chan string, 2)
	runErr := make(chan error, 1)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		runErr <- worker.Run(wctx, worker.Options{Redis: rdb, Topic: "orders", Backoff: fastBackoff, MaxAttempts: 2},
			func(ctx context.Context, m *worker.Message) error {
				if m.User == "bad" {
					return errors.New("poison")
				}
				handled <- string(m.Data)
				return nil
			})
	}()
	select {
	case d := <-handled:
		if d != `"fine"` {
			t.Fatalf("handled %s", d)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("nothing handled as the ACL user")
	}
	var dead []worker.DeadLetter
	eventually(t, 20*time.Second, "the poison message dead", func() bool {
		dead, _ = worker.DeadLetters(ctx, rdb, "orders", 10)
		return len(dead) == 1
	})
	cancel()
	if err := <-runErr; err != nil {
		t.Fatal(err)
	}
	if n := admin.ZCard(ctx, streams.WorkersKey("orders")).Val(); n != 0 {
		t.Fatal("the worker could not leave the workers set")
	}
	if v := admin.Do(ctx, "ACL", "LOG").Val(); v != nil {
		if l, ok := v.([]any); ok && len(l) > 0 {
			t.Fatalf("ACL denials: %v", l)
		}
	}
}
