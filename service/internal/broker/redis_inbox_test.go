package broker

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// inboxNode is one gateway node's inbox under test, with the reply pushes
// it delivered to its "local clients".
type inboxNode struct {
	*RedisInbox
	reg *prometheus.Registry
	m   *InboxMetrics

	mu      sync.Mutex
	local   map[string]bool     // the clients connected here
	pushed  map[string][]string // client -> reply push lines
	arrived chan struct{}
}

func startInbox(t testing.TB, url, node string, tweak func(*InboxOptions)) *inboxNode {
	t.Helper()
	r := startRedis(t, url, protocol.NodeInfo{Node: node}, noPublications{})
	reg := prometheus.NewRegistry()
	n := &inboxNode{reg: reg, m: NewInboxMetrics(reg), local: map[string]bool{}, pushed: map[string][]string{},
		arrived: make(chan struct{}, 100)}
	opts := InboxOptions{Node: node, MaxLen: 1000, NoWorker: 30 * time.Second, Partitions: 4, Metrics: n.m,
		Log: slog.New(slog.DiscardHandler), Deliver: n.deliver}
	if tweak != nil {
		tweak(&opts)
	}
	n.RedisInbox = r.Redis.NewInbox(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return n
}

func (n *inboxNode) deliver(client string, line []byte) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.local[client] {
		return false
	}
	n.pushed[client] = append(n.pushed[client], string(line))
	n.arrived <- struct{}{}
	return true
}

func (n *inboxNode) connect(client string) {
	n.mu.Lock()
	n.local[client] = true
	n.mu.Unlock()
}

// waitPush waits for the next reply push to client.
func (n *inboxNode) waitPush(t *testing.T, client string, k int) string {
	t.Helper()
	deadline := time.After(5 * time.Second)
	for {
		n.mu.Lock()
		got := n.pushed[client]
		n.mu.Unlock()
		if len(got) > k {
			return got[k]
		}
		select {
		case <-n.arrived:
		case <-deadline:
			t.Fatalf("no reply push %d to %s within 5 s", k, client)
		}
	}
}

// heartbeat makes a worker of topic alive, as the worker library does.
func heartbeat(t testing.TB, rdb redis.UniversalClient, topic string) {
	t.Helper()
	err := rdb.ZAdd(context.Background(), streams.WorkersKey(topic), redis.Z{Score: float64(time.Now().UnixMilli()), Member: "w1"}).Err()
	if err != nil {
		t.Fatal(err)
	}
}

func errCode(err error) string {
	if err == nil {
		return ""
	}
	return protocol.AsError(err).Code
}

func TestRedisInbox(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	admin := srv.Client()
	for _, tc := range inboxCases {
		t.Run(tc.name, func(t *testing.T) {
			flushAll(t, admin)
			tc.run(t, srv.URL(), admin)
		})
	}
}

// TestRedisInboxCluster runs the same cases on a three-master Cluster: the
// enqueue script touches one partition's keys only (one slot).
func TestRedisInboxCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	admins := make([]*redis.Client, len(cl.Nodes))
	for i, n := range cl.Nodes {
		admins[i] = n.Client()
	}
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	for _, tc := range inboxCases {
		t.Run(tc.name, func(t *testing.T) {
			flushAll(t, admins...)
			tc.run(t, cl.URL(), rdb)
		})
	}
}

var inboxCases = []struct {
	name string
	run  func(t *testing.T, url string, rdb redis.UniversalClient)
}{
	{"send queues every field in the user's partition", testInboxSend},
	{"a repeated key is queued once", testInboxDuplicate},
	{"no worker answers unavailable", testInboxNoWorker},
	{"a full partition answers rate_limited and keeps its entries", testInboxFull},
	{"a reply reaches the sender on another node", testInboxReply},
	{"dead letters are listed and re-driven", testInboxDead},
	{"lag and oldest pending per topic", testInboxGauges},
	{"a lost partition count is written again", testInboxMetaRewritten},
}

func testInboxMetaRewritten(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	n := startInbox(t, url, "node-a", nil)
	heartbeat(t, rdb, "orders")
	m := protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Data: []byte(`1`)}
	if _, err := n.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	// Redis lost the meta (a restart without persistence); the node's
	// recheck is due.
	rdb.Del(ctx, streams.MetaKey("orders"))
	n.mu.Lock()
	n.parts["orders"] = topicParts{n: 4, at: time.Now().Add(-metaRecheck)}
	n.mu.Unlock()
	if _, err := n.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	if got, _ := rdb.HGet(ctx, streams.MetaKey("orders"), streams.MetaPartitions).Result(); got != "4" {
		t.Errorf("meta partitions = %q after the recheck, want 4", got)
	}
}

func testInboxSend(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	n := startInbox(t, url, "node-a", nil)
	heartbeat(t, rdb, "orders")
	m := protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Key: "k1",
		Data: []byte(`{"sku":"A1"}`), TraceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"}
	res, err := n.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	p := streams.Part{Group: "orders", N: streams.Partition("alice", 4)}
	group, part, entry, err := streams.ParseID(res.ID)
	if err != nil || group != "orders" || part != p.N || res.Duplicate {
		t.Fatalf("send = %+v (%v), want a new id in orders/%d", res, err, p.N)
	}
	msgs, err := rdb.XRange(ctx, p.Stream(), "-", "+").Result()
	if err != nil || len(msgs) != 1 || msgs[0].ID != entry {
		t.Fatalf("partition stream holds %v (%v), want the one entry %s", msgs, err, entry)
	}
	want := map[string]string{"id": res.ID, "topic": "orders", "user": "alice", "client": "c1", "node": "node-a",
		"data": `{"sku":"A1"}`, "key": "k1", "traceparent": m.TraceParent}
	for f, v := range want {
		if got := msgs[0].Values[f]; got != v {
			t.Errorf("field %s = %v, want %q", f, got, v)
		}
	}
	if ms := entryMS(entry); msgs[0].Values["time_ms"] != strings.Split(entry, "-")[0] || ms == 0 {
		t.Errorf("time_ms = %v, want the entry's ms %d", msgs[0].Values["time_ms"], ms)
	}
	if snd, _ := rdb.Get(ctx, p.Sender(entry)).Result(); snd != "node-a\tc1" {
		t.Errorf("sender key = %q, want node-a\\tc1", snd)
	}
	if ttl, _ := rdb.TTL(ctx, p.Dedup("alice", "k1")).Result(); ttl <= 0 || ttl > streams.DedupTTL {
		t.Errorf("dedup key ttl %v, want within %v", ttl, streams.DedupTTL)
	}
	groups, err := rdb.XInfoGroups(ctx, p.Stream()).Result()
	if err != nil || len(groups) != 1 || groups[0].Name != streams.GroupWorkers {
		t.Errorf("consumer groups %v (%v), want %s", groups, err, streams.GroupWorkers)
	}
	if got, _ := rdb.HGet(ctx, streams.MetaKey("orders"), streams.MetaPartitions).Result(); got != "4" {
		t.Errorf("meta partitions = %q, want 4", got)
	}
	if member, _ := rdb.SIsMember(ctx, streams.NodeConnsKey("node-a"), "c1").Result(); !member {
		t.Error("the sender is not in the node's conns set")
	}
	if got := counterValue(n.m.Enqueued.WithLabelValues(EnqueueOK)); got != 1 {
		t.Errorf("enqueued{ok} = %v, want 1", got)
	}
}

func testInboxDuplicate(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	n := startInbox(t, url, "node-a", nil)
	heartbeat(t, rdb, "orders")
	m := protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Key: "k1", Data: []byte(`1`)}
	first, err := n.Send(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	m.Data = []byte(`2`)
	again, err := n.Send(ctx, m)
	if err != nil || again.ID != first.ID || !again.Duplicate {
		t.Fatalf("repeat = %+v (%v), want %s duplicate", again, err, first.ID)
	}
	other, err := n.Send(ctx, protocol.InboxMessage{Topic: "orders", User: "bob", Client: "c2", Key: "k1", Data: []byte(`3`)})
	if err != nil || other.Duplicate {
		t.Fatalf("another user's same key = %+v (%v), want a new message", other, err)
	}
	p := streams.Part{Group: "orders", N: streams.Partition("alice", 4)}
	if got, _ := rdb.XLen(ctx, p.Stream()).Result(); got != 1+boolInt(streams.Partition("bob", 4) == p.N) {
		t.Errorf("alice's partition holds %d entries", got)
	}
	if got := counterValue(n.m.Enqueued.WithLabelValues(EnqueueDuplicate)); got != 1 {
		t.Errorf("enqueued{duplicate} = %v, want 1", got)
	}
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func testInboxNoWorker(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	n := startInbox(t, url, "node-a", func(o *InboxOptions) { o.NoWorker = time.Second })
	m := protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Data: []byte(`1`)}
	if _, err := n.Send(ctx, m); errCode(err) != protocol.CodeUnavailable {
		t.Fatalf("send without a worker: %v, want unavailable", err)
	}
	// A heartbeat older than NoWorker counts as none.
	err := rdb.ZAdd(ctx, streams.WorkersKey("orders"), redis.Z{Score: float64(time.Now().Add(-2 * time.Second).UnixMilli()), Member: "old"}).Err()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.Send(ctx, m); errCode(err) != protocol.CodeUnavailable {
		t.Fatalf("send with a stale worker: %v, want unavailable", err)
	}
	heartbeat(t, rdb, "orders")
	if _, err := n.Send(ctx, m); err != nil {
		t.Fatalf("send once a worker is alive: %v", err)
	}
	if got := counterValue(n.m.Enqueued.WithLabelValues(EnqueueNoWorker)); got != 2 {
		t.Errorf("enqueued{no_worker} = %v, want 2", got)
	}
}

func testInboxFull(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	// 8 per topic over 4 partitions: 2 per partition.
	n := startInbox(t, url, "node-a", func(o *InboxOptions) { o.MaxLen = 8 })
	heartbeat(t, rdb, "orders")
	m := protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Data: []byte(`1`)}
	for range 2 {
		if _, err := n.Send(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := n.Send(ctx, m); errCode(err) != protocol.CodeRateLimited {
		t.Fatalf("third send to a partition of 2: %v, want rate_limited", err)
	}
	p := streams.Part{Group: "orders", N: streams.Partition("alice", 4)}
	if got, _ := rdb.XLen(ctx, p.Stream()).Result(); got != 2 {
		t.Errorf("partition holds %d entries, want 2 (never trimmed)", got)
	}
	if got := counterValue(n.m.Enqueued.WithLabelValues(EnqueueFull)); got != 1 {
		t.Errorf("enqueued{full} = %v, want 1", got)
	}
}

func testInboxReply(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	a := startInbox(t, url, "node-a", nil)
	b := startInbox(t, url, "node-b", nil)
	heartbeat(t, rdb, "orders")
	a.connect("c1")
	res, err := a.Send(ctx, protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Data: []byte(`1`)})
	if err != nil {
		t.Fatal(err)
	}
	// The reply API is called on node b; the sender is on node a.
	if err := replyEventually(ctx, b, res.ID, []byte(`{"ok":true}`), nil); err != nil {
		t.Fatalf("reply: %v", err)
	}
	if got, want := a.waitPush(t, "c1", 0), `{"push":"reply","id":"`+res.ID+`","data":{"ok":true}}`; got != want {
		t.Errorf("push %s, want %s", got, want)
	}
	if err := b.Reply(ctx, res.ID, nil, &protocol.Error{Code: "out_of_stock", Message: "none left"}); err != nil {
		t.Fatalf("error reply: %v", err)
	}
	if got, want := a.waitPush(t, "c1", 1), `{"push":"reply","id":"`+res.ID+`","error":{"code":"out_of_stock","message":"none left"}}`; got != want {
		t.Errorf("push %s, want %s", got, want)
	}
	a.Forget("c1")
	if err := b.Reply(ctx, res.ID, []byte(`1`), nil); !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("reply after the sender left: %v, want not_found", err)
	}
	if err := b.Reply(ctx, "orders/0/1-0", []byte(`1`), nil); !errors.Is(err, protocol.ErrNotFound) {
		t.Errorf("reply to an unknown message: %v, want not_found", err)
	}
	if err := b.Reply(ctx, "not-an-id", []byte(`1`), nil); errCode(err) != protocol.CodeBadRequest {
		t.Errorf("reply to a malformed id: %v, want bad_request", err)
	}
	if got := counterValue(b.m.Replies.WithLabelValues(ReplyDelivered)); got != 2 {
		t.Errorf("replies{delivered} = %v, want 2", got)
	}
	if got := counterValue(b.m.Replies.WithLabelValues(ReplyNotFound)); got != 2 {
		t.Errorf("replies{not_found} = %v, want 2", got)
	}
}

// replyEventually retries a reply that found no listener: node a's
// subscription to its channel is made by Run, which may still be starting.
func replyEventually(ctx context.Context, n *inboxNode, id string, data []byte, e *protocol.Error) error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		err := n.Reply(ctx, id, data, e)
		if err == nil || !errors.Is(err, protocol.ErrNotFound) || time.Now().After(deadline) {
			return err
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func testInboxDead(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	n := startInbox(t, url, "node-a", nil)
	heartbeat(t, rdb, "orders")
	res, err := n.Send(ctx, protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Key: "k", Data: []byte(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Dead-letter it as a worker does: the original fields plus the dead
	// ones, then XACK and XDEL.
	_, part, entry, _ := streams.ParseID(res.ID)
	p := streams.Part{Group: "orders", N: part}
	orig, err := rdb.XRange(ctx, p.Stream(), entry, entry).Result()
	if err != nil || len(orig) != 1 {
		t.Fatalf("entry: %v %v", orig, err)
	}
	vals := map[string]any{}
	for k, v := range orig[0].Values {
		vals[k] = v
	}
	vals["orig_id"], vals["partition"], vals["attempts"], vals["error"], vals["dead_ms"] = entry, part, 5, "boom", time.Now().UnixMilli()
	deadID, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: streams.DeadKey("orders"), Values: vals}).Result()
	if err != nil {
		t.Fatal(err)
	}
	rdb.XDel(ctx, p.Stream(), entry)

	dead, err := n.DeadLetters(ctx, "orders", 10)
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters %+v (%v), want one", dead, err)
	}
	d := dead[0]
	if d.DeadID != deadID || d.ID != res.ID || d.User != "alice" || string(d.Data) != `{"a":1}` || d.Attempts != 5 ||
		d.Error != "boom" || d.Partition != part || d.OrigID != entry || d.Key != "k" {
		t.Errorf("dead letter %+v", d)
	}
	done, err := n.Redrive(ctx, "orders", nil, 10)
	if err != nil || len(done) != 1 || done[0].ID != res.ID || done[0].DeadID != deadID {
		t.Fatalf("redrive = %+v (%v)", done, err)
	}
	back, _ := rdb.XRange(ctx, p.Stream(), "-", "+").Result()
	if len(back) != 1 || back[0].ID != done[0].EntryID || back[0].Values["id"] != res.ID || back[0].Values["data"] != `{"a":1}` {
		t.Fatalf("partition after re-drive: %v", back)
	}
	if _, ok := back[0].Values["attempts"]; ok {
		t.Error("the re-driven entry kept the dead letter's fields")
	}
	if left, _ := rdb.XLen(ctx, streams.DeadKey("orders")).Result(); left != 0 {
		t.Errorf("%d dead letters left", left)
	}
	if _, err := n.DeadLetters(ctx, "bad/topic", 10); errCode(err) != protocol.CodeBadRequest {
		t.Errorf("bad topic: %v, want bad_request", err)
	}
}

func testInboxGauges(t *testing.T, url string, rdb redis.UniversalClient) {
	ctx := context.Background()
	n := startInbox(t, url, "node-a", nil)
	heartbeat(t, rdb, "orders")
	for _, u := range []string{"alice", "bob", "carol"} {
		if _, err := n.Send(ctx, protocol.InboxMessage{Topic: "orders", User: u, Client: "c", Data: []byte(`1`)}); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(5 * time.Millisecond) // so that the oldest is older than 0 ms
	got := gather(t, n.reg)
	if got["wsgateway_inbox_lag_messages{topic=orders}"] != 3 {
		t.Errorf("lag = %v, want 3", got["wsgateway_inbox_lag_messages{topic=orders}"])
	}
	if age := got["wsgateway_inbox_oldest_pending_seconds{topic=orders}"]; age <= 0 || age > 60 {
		t.Errorf("oldest pending = %v s", age)
	}
	for _, r := range []string{EnqueueOK, EnqueueDuplicate, EnqueueFull, EnqueueNoWorker, EnqueueUnavailable, EnqueueDenied} {
		if _, ok := got["wsgateway_inbox_enqueued_total{result="+r+"}"]; !ok {
			t.Errorf("no enqueued_total{result=%s}", r)
		}
	}
}

// gather flattens reg's metrics as name{label=value,...} -> value.
func gather(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetGauge().GetValue() + m.GetCounter().GetValue()
			out[mf.GetName()+"{"+strings.Join(labels, ",")+"}"] = v
		}
	}
	return out
}

// TestRedisInboxDown: with Redis gone, a send answers unavailable (the
// breaker opens after a few failures, then every send fails at once).
func TestRedisInboxDown(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	n := startInbox(t, srv.URL(), "node-a", nil)
	heartbeat(t, srv.Client(), "orders")
	ctx := context.Background()
	m := protocol.InboxMessage{Topic: "orders", User: "alice", Client: "c1", Data: []byte(`1`)}
	if _, err := n.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	for i := range 5 {
		start := time.Now()
		if _, err := n.Send(ctx, m); errCode(err) != protocol.CodeUnavailable {
			t.Fatalf("send %d with Redis down: %v, want unavailable", i, err)
		}
		t.Logf("send %d with Redis down answered unavailable in %v", i, time.Since(start)) // measured, not asserted
	}
	if got := counterValue(n.m.Enqueued.WithLabelValues(EnqueueUnavailable)); got != 5 {
		t.Errorf("enqueued{unavailable} = %v, want 5", got)
	}
	if err := n.Reply(ctx, "orders/0/1-0", []byte(`1`), nil); errCode(err) != protocol.CodeUnavailable {
		t.Errorf("reply with Redis down: %v, want unavailable", err)
	}
}

// counterValue reads a counter.
func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	_ = c.Write(&m)
	return m.GetCounter().GetValue()
}

// noPublications is the Handler of an inbox test's broker: the inbox
// publishes nothing on channels.
type noPublications struct{}

func (noPublications) HandlePublication(*protocol.Publication) {}
func (noPublications) HandleDisconnect(string)                 {}
