package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

// buildWorker builds this command into the test's temporary directory.
func buildWorker(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs worker processes")
	}
	bin := filepath.Join(t.TempDir(), "worker")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// proc is one worker process.
type proc struct {
	cmd  *exec.Cmd
	done chan error
	log  *strings.Builder
}

func startWorker(t *testing.T, bin, redisURL, name string, extra ...string) *proc {
	t.Helper()
	args := append([]string{"--redis-url", redisURL, "--topic", "orders", "--name", name, "--record", "rec"}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH")}
	p := &proc{cmd: cmd, done: make(chan error, 1), log: &strings.Builder{}}
	cmd.Stderr = syncWriter{p.log, make(chan struct{}, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(10 * time.Second):
		}
	})
	return p
}

// syncWriter serialises writes to a strings.Builder (os/exec copies stderr
// on its own goroutine).
type syncWriter struct {
	b    *strings.Builder
	lock chan struct{}
}

func (w syncWriter) Write(p []byte) (int, error) {
	w.lock <- struct{}{}
	defer func() { <-w.lock }()
	return w.b.Write(p)
}

func enqueue(t *testing.T, rdb redis.UniversalClient, user string, parts int, data string) {
	t.Helper()
	ctx := context.Background()
	if _, err := streams.EnsurePartitions(ctx, rdb, "orders", parts); err != nil {
		t.Fatal(err)
	}
	part := streams.Part{Group: "orders", N: streams.Partition(user, parts)}
	if err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: part.Stream(), Values: map[string]any{
		streams.FieldTopic: "orders", streams.FieldUser: user, streams.FieldClient: "c1", streams.FieldNode: "n1",
		streams.FieldData: data, streams.FieldTimeMS: strconv.FormatInt(time.Now().UnixMilli(), 10),
	}}).Err(); err != nil {
		t.Fatal(err)
	}
}

// poll waits up to d for cond, every 20 ms.
func poll(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	for end := time.Now().Add(d); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("not within %s: %s", d, what)
		}
	}
}

// A worker process killed with SIGKILL in the middle of a message: after
// its lease expires, another worker (or the restarted one) runs that
// message again exactly once, never while another run of it or of its
// partition is going on, and the user's messages still end in order.
func TestKilledWorkerMessageRunsOnceMoreNeverConcurrently(t *testing.T) {
	bin := buildWorker(t)
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	const n = 6
	var want []string
	for i := range n {
		enqueue(t, rdb, "kim", 4, strconv.Itoa(i))
		want = append(want, strconv.Itoa(i))
	}
	a := startWorker(t, bin, srv.URL(), "A", "--work", "300ms")
	// Kill A once it has finished message 0 and started message 1.
	poll(t, 30*time.Second, "A starting message 1", func() bool {
		r := rdb.LRange(ctx, "rec", 0, -1).Val()
		return len(r) > 0 && r[len(r)-1] == "start A 1"
	})
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-a.done
	killedAt := rdb.LLen(ctx, "rec").Val()
	startWorker(t, bin, srv.URL(), "B", "--work", "50ms")
	startWorker(t, bin, srv.URL(), "A2", "--work", "50ms")
	poll(t, 40*time.Second, "every message ended", func() bool {
		ends := 0
		for _, r := range rdb.LRange(ctx, "rec", 0, -1).Val() {
			if strings.HasPrefix(r, "end ") {
				ends++
			}
		}
		return ends >= n
	})
	rec := rdb.LRange(ctx, "rec", 0, -1).Val()
	starts, ends := map[string]int{}, []string{}
	running := ""
	for i, r := range rec {
		what, rest, _ := strings.Cut(r, " ")
		who, data, _ := strings.Cut(rest, " ")
		if i == int(killedAt) {
			running = "" // A died in the middle of message 1
		}
		switch what {
		case "start":
			if running != "" {
				t.Errorf("record %d: %s started %s while %s ran", i, who, data, running)
			}
			running = who + " " + data
			starts[data]++
		case "end":
			if running != who+" "+data {
				t.Errorf("record %d: %s ended %s, but %q was running", i, who, data, running)
			}
			running = ""
			ends = append(ends, data)
		}
	}
	wantStarts := map[string]int{}
	for _, d := range want {
		wantStarts[d] = 1
	}
	wantStarts["1"] = 2
	if diff := cmp.Diff(wantStarts, starts); diff != "" {
		t.Errorf("runs per message (-want +got):\n%s\nrecord: %v", diff, rec)
	}
	if diff := cmp.Diff(want, ends); diff != "" {
		t.Errorf("ends in order (-want +got):\n%s", diff)
	}
}

// SIGTERM drains a worker process: the message in hand ends, the process
// exits 0, and its lease is released at once (not after 10 s).
func TestSIGTERMDrains(t *testing.T) {
	bin := buildWorker(t)
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	ctx := context.Background()
	enqueue(t, rdb, "lee", 4, "0")
	enqueue(t, rdb, "lee", 4, "1")
	a := startWorker(t, bin, srv.URL(), "A", "--work", "500ms")
	poll(t, 30*time.Second, "A starting message 0", func() bool {
		return rdb.LIndex(ctx, "rec", -1).Val() == "start A 0"
	})
	if err := a.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-a.done:
		if err != nil {
			t.Fatalf("worker exited with %v after SIGTERM\n%s", err, a.log)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("worker did not exit within 30 s of SIGTERM")
	}
	if got, want := rdb.LRange(ctx, "rec", 0, -1).Val(), []string{"start A 0", "end A 0"}; !cmp.Equal(got, want) {
		t.Fatalf("record %v, want %v", got, want)
	}
	part := streams.Part{Group: "orders", N: streams.Partition("lee", 4)}
	if rdb.Exists(ctx, part.Lease(streams.GroupWorkers)).Val() != 0 {
		t.Fatal("lease still held after the drain")
	}
	if n := rdb.XLen(ctx, part.Stream()).Val(); n != 1 {
		t.Fatalf("partition holds %d, want message 1 left for the next worker", n)
	}
}
