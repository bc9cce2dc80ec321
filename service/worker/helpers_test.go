package worker_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

// backend makes Redis clients for one kind of deployment; every test of
// the consumer runs on a standalone server and on a Cluster.
type backend struct {
	name      string
	newClient func(t *testing.T) redis.UniversalClient
}

func backends() []backend {
	return []backend{
		{"standalone", func(t *testing.T) redis.UniversalClient {
			srv := redistest.Start(t, redistest.Options{})
			return client(t, &redis.UniversalOptions{Addrs: []string{addr(srv.URL())}})
		}},
		{"cluster", func(t *testing.T) redis.UniversalClient {
			c := redistest.StartCluster(t)
			return client(t, &redis.UniversalOptions{Addrs: c.Addrs(), IsClusterMode: true})
		}},
	}
}

// addr strips redis:// from a URL.
func addr(url string) string {
	o, err := redis.ParseURL(url)
	if err != nil {
		panic(err)
	}
	return o.Addr
}

func client(t testing.TB, o *redis.UniversalOptions) redis.UniversalClient {
	o.PoolSize = 40
	c := redis.NewUniversalClient(o)
	t.Cleanup(func() { c.Close() })
	return c
}

// forEachBackend runs f against a fresh standalone server and a fresh Cluster.
func forEachBackend(t *testing.T, f func(t *testing.T, rdb redis.UniversalClient)) {
	for _, b := range backends() {
		t.Run(b.name, func(t *testing.T) { f(t, b.newClient(t)) })
	}
}

// enqueue adds an inbox entry the way the gateway's enqueue does (the
// fields of streams-design.md), and returns its public id.
func enqueue(t *testing.T, rdb redis.UniversalClient, topic string, parts int, user, data string) string {
	t.Helper()
	ctx := context.Background()
	if _, err := streams.EnsurePartitions(ctx, rdb, topic, parts); err != nil {
		t.Fatal(err)
	}
	part := streams.Part{Group: topic, N: streams.Partition(user, parts)}
	// Like the gateway's script, pick the entry id first, so the entry can
	// carry its public id.
	eid := fmt.Sprintf("%d-%d", time.Now().UnixMilli(), entrySeq.Add(1))
	pub := streams.FormatID(topic, part.N, eid)
	_, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: part.Stream(), ID: eid, Values: map[string]any{
		streams.FieldID: pub, streams.FieldTopic: topic, streams.FieldUser: user, streams.FieldClient: "c-" + user,
		streams.FieldNode: "n1", streams.FieldData: data, streams.FieldKey: "",
		streams.FieldTimeMS: strconv.FormatInt(time.Now().UnixMilli(), 10), streams.FieldTraceparent: "",
	}}).Result()
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// entrySeq makes enqueue's entry ids increase within a millisecond.
var entrySeq atomic.Int64

// journal records what handlers did, and fails the test when two runs of
// one partition overlap.
type journal struct {
	mu       sync.Mutex
	running  map[int]string // partition -> message id in flight
	byUser   map[string][]string
	runs     map[string]int
	overlaps []string
}

func newJournal() *journal {
	return &journal{running: map[int]string{}, byUser: map[string][]string{}, runs: map[string]int{}}
}

func (j *journal) start(part int, id string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if other, ok := j.running[part]; ok {
		j.overlaps = append(j.overlaps, fmt.Sprintf("partition %d: %s started while %s ran", part, id, other))
	}
	j.running[part] = id
	j.runs[id]++
}

func (j *journal) end(part int, user, data string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	delete(j.running, part)
	j.byUser[user] = append(j.byUser[user], data)
}

func (j *journal) count() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	n := 0
	for _, v := range j.byUser {
		n += len(v)
	}
	return n
}

// eventually polls cond every 20 ms for at most d.
func eventually(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", d, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// runAsync runs f until the returned stop is called; stop cancels f's
// context, waits for Run to return and hands back its error.
func runAsync(f func(ctx context.Context) error) (stop func() error) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f(ctx) }()
	var once sync.Once
	var err error
	return func() error {
		once.Do(func() {
			cancel()
			select {
			case err = <-done:
			case <-time.After(60 * time.Second):
				err = fmt.Errorf("Run did not return within 60 s of its context ending")
			}
		})
		return err
	}
}
