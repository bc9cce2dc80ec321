package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// The inbox end to end (CONTRACT §7) on the real binary and a real Redis.
// The worker here is the test itself, speaking the stream layout of
// docs/streams.md with go-redis (heartbeat, XREADGROUP) and the reply API,
// as a worker in another language would.

const inboxAPIKey = "inbox-api-key"

// startInboxNode runs the real binary on url with JWT auth, the API key and
// four partitions per topic, plus extra flags.
func startInboxNode(t testing.TB, url, id string, extra ...string) *gw {
	t.Helper()
	args := []string{"--node-id", id, "--redis-url", url, "--jwt-secret", testSecret, "--api-key", inboxAPIKey,
		"--inbox-partitions", "4", "--drain-delay", "0s", "--drain-window", "0s"}
	return gatewaytest.Start(t, gatewaytest.Options{Args: append(args, extra...)})
}

// sendToken is a token of user that may send to the given topic patterns.
func sendToken(t testing.TB, user string, send ...string) string {
	t.Helper()
	tok, err := auth.SignHS256([]byte(testSecret), auth.TokenSpec{User: user, Send: send, TTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// workerAlive writes a worker heartbeat for topic, as the worker library does every 5 s.
func workerAlive(t *testing.T, rdb *redis.Client, topic string) {
	t.Helper()
	if err := rdb.ZAdd(context.Background(), streams.WorkersKey(topic),
		redis.Z{Score: float64(time.Now().UnixMilli()), Member: "test-worker"}).Err(); err != nil {
		t.Fatal(err)
	}
}

func sendCmd(topic, data, key string) protocol.Command {
	return protocol.Command{Op: protocol.OpSend, Topic: topic, Data: []byte(data), IdempotencyKey: key}
}

// TestInboxSendAndReplyAcrossNodes: alice sends on node a; the message is
// in her partition with every field; a repeat of her key is answered with
// the first id; a worker's reply posted to node b reaches her on node a;
// once she left, the reply answers 404.
func TestInboxSendAndReplyAcrossNodes(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	a := startInboxNode(t, srv.URL(), "node-a")
	b := startInboxNode(t, srv.URL(), "node-b")
	workerAlive(t, rdb, "orders")
	alice := connected(t, a, sendToken(t, "alice", "orders"))

	if m := alice.call(sendCmd("billing", `{}`, "")); errCode(m) != protocol.CodePermissionDenied {
		t.Errorf("send without the claim: %s, want permission_denied", show(m))
	}
	if m := alice.call(sendCmd("_internal", `{}`, "")); errCode(m) != protocol.CodeBadRequest {
		t.Errorf("send to a reserved topic: %s, want bad_request", show(m))
	}
	first := resultOf[protocol.SendResult](t, alice.call(sendCmd("orders", `{"sku":"A1","qty":2}`, "k1")))
	again := resultOf[protocol.SendResult](t, alice.call(sendCmd("orders", `{"sku":"A1","qty":2}`, "k1")))
	if first.Duplicate || again.ID != first.ID || !again.Duplicate {
		t.Fatalf("send then repeat = %+v, %+v: want one id, the second a duplicate", first, again)
	}

	// The worker's view: one entry, in alice's partition, with every field.
	p := streams.Part{Group: "orders", N: streams.Partition("alice", 4)}
	if got := first.ID[:strings.LastIndex(first.ID, "/")]; got != fmt.Sprintf("orders/%d", p.N) {
		t.Errorf("message id %s is not in partition %d", first.ID, p.N)
	}
	ctx := context.Background()
	got, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: streams.GroupWorkers, Consumer: "test-worker",
		Streams: []string{p.Stream(), ">"}, Count: 10, Block: -1}).Result()
	if err != nil || len(got) != 1 || len(got[0].Messages) != 1 {
		t.Fatalf("XREADGROUP: %v (%v), want one entry", got, err)
	}
	e := got[0].Messages[0]
	for f, v := range map[string]string{"id": first.ID, "topic": "orders", "user": "alice", "node": "node-a",
		"data": `{"sku":"A1","qty":2}`, "key": "k1", "traceparent": ""} {
		if e.Values[f] != v {
			t.Errorf("entry field %s = %v, want %q", f, e.Values[f], v)
		}
	}
	if c, _ := e.Values["client"].(string); c == "" {
		t.Error("entry has no client")
	}

	// The reply goes to node b's API; alice is on node a.
	body := fmt.Sprintf(`{"id":%q,"data":{"status":"accepted"}}`, e.Values["id"])
	if code, res := apiCall(t, b, "POST", "/api/v1/reply", inboxAPIKey, body); code != http.StatusOK || string(res) != "{}\n" {
		t.Fatalf("reply: %d %s", code, res)
	}
	want := `{"push":"reply","id":"` + first.ID + `","data":{"status":"accepted"}}`
	if push := string(alice.nextRaw(5 * time.Second)); push != want {
		t.Errorf("push %s, want %s", push, want)
	}
	errBody := fmt.Sprintf(`{"id":%q,"error":{"code":"out_of_stock","message":"none left"}}`, first.ID)
	if code, res := apiCall(t, b, "POST", "/api/v1/reply", inboxAPIKey, errBody); code != http.StatusOK {
		t.Fatalf("error reply: %d %s", code, res)
	}
	want = `{"push":"reply","id":"` + first.ID + `","error":{"code":"out_of_stock","message":"none left"}}`
	if push := string(alice.nextRaw(5 * time.Second)); push != want {
		t.Errorf("push %s, want %s", push, want)
	}

	alice.c.Close()
	// Node a learns of the close a moment later: until then a reply is
	// still delivered (to a socket that is going), and counted so.
	delivered := 2.0
	within(t, 10*time.Second, func() bool {
		code, _ := apiCall(t, b, "POST", "/api/v1/reply", inboxAPIKey, body)
		if code == http.StatusOK {
			delivered++
		}
		return code == http.StatusNotFound
	}, func() string { return "the reply to a sender that left never answered 404" })
	code, res := apiCall(t, b, "POST", "/api/v1/reply", inboxAPIKey, body)
	if code != http.StatusNotFound || apiErrCode(res) != protocol.CodeNotFound {
		t.Errorf("reply after the sender left: %d %s, want 404 not_found", code, res)
	}
	if code, _ := apiCall(t, b, "POST", "/api/v1/reply", inboxAPIKey, `{"id":"no-such-id","data":1}`); code != http.StatusBadRequest {
		t.Errorf("reply to a malformed message id: %d, want 400", code)
	}
	if code, _ := apiCall(t, b, "POST", "/api/v1/reply", "", body); code != http.StatusUnauthorized {
		t.Errorf("reply without the API key: %d, want 401", code)
	}
	wantMetrics(t, a, map[string]float64{
		"inbox_enqueued_total result=ok": 1, "inbox_enqueued_total result=duplicate": 1,
		"inbox_enqueued_total result=denied": 1, "inbox_enqueued_total result=full": 0,
		"inbox_lag_messages topic=orders": 1, // read, not acknowledged: still unconsumed
	})
	// The replies delivered after the close may or may not have found the
	// session still there; the two before it did.
	if pushed := metric(t, a, "inbox_reply_pushes_total result=delivered"); pushed < 2 || pushed > delivered {
		t.Errorf("node a pushed %g replies, want 2..%g", pushed, delivered)
	}
	wantMetrics(t, b, map[string]float64{
		"inbox_replies_total result=delivered": delivered, "inbox_replies_total result=not_found": 2,
	})
}

// TestInboxRefusals: no worker, a full partition, and Redis down each
// answer send with their code, and queue nothing.
func TestInboxRefusals(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	// 4 per topic over 4 partitions: one unconsumed message per partition.
	n := startInboxNode(t, srv.URL(), "node-a", "--inbox-max-len", "4", "--inbox-no-worker", "2s")
	alice := connected(t, n, sendToken(t, "alice", "*"))

	if m := alice.call(sendCmd("orders", `1`, "")); errCode(m) != protocol.CodeUnavailable {
		t.Errorf("send with no worker: %s, want unavailable", show(m))
	}
	workerAlive(t, rdb, "orders")
	resultOf[protocol.SendResult](t, alice.call(sendCmd("orders", `1`, "")))
	if m := alice.call(sendCmd("orders", `2`, "")); errCode(m) != protocol.CodeRateLimited {
		t.Errorf("send to a full partition: %s, want rate_limited", show(m))
	}
	p := streams.Part{Group: "orders", N: streams.Partition("alice", 4)}
	if got, _ := rdb.XLen(context.Background(), p.Stream()).Result(); got != 1 {
		t.Errorf("partition holds %d entries, want 1 (never trimmed)", got)
	}

	srv.Kill()
	for range 4 {
		if m := alice.call(sendCmd("orders", `3`, "")); errCode(m) != protocol.CodeUnavailable {
			t.Fatalf("send with Redis down: %s, want unavailable", show(m))
		}
	}
	wantMetrics(t, n, map[string]float64{
		"inbox_enqueued_total result=no_worker": 1, "inbox_enqueued_total result=ok": 1,
		"inbox_enqueued_total result=full": 1, "inbox_enqueued_total result=unavailable": 4,
	})
}

// TestInboxWithoutRedis: a node without --redis-url has no inbox: send and
// the inbox API answer unavailable; the metrics exist all the same.
func TestInboxWithoutRedis(t *testing.T) {
	n := gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--dev", "--api-key", inboxAPIKey}})
	c := connected(t, n, "")
	if m := c.call(sendCmd("orders", `1`, "")); errCode(m) != protocol.CodeUnavailable {
		t.Errorf("send: %s, want unavailable", show(m))
	}
	if code, _ := apiCall(t, n, "POST", "/api/v1/reply", inboxAPIKey, `{"id":"orders/0/1-0","data":1}`); code != http.StatusServiceUnavailable {
		t.Errorf("reply: %d, want 503", code)
	}
	if code, _ := apiCall(t, n, "GET", "/api/v1/inbox/dead?topic=orders", inboxAPIKey, ""); code != http.StatusServiceUnavailable {
		t.Errorf("dead letters: %d, want 503", code)
	}
	// A malformed reply is refused before the inbox is asked.
	for _, body := range []string{
		`{"data":1}`,
		`{"id":"orders/0/1-0"}`,
		`{"id":"orders/0/1-0","data":1,"error":{"code":"internal","message":"x"}}`,
		`{"id":"orders/0/1-0","error":{"code":"Not A Code","message":"x"}}`,
	} {
		if code, res := apiCall(t, n, "POST", "/api/v1/reply", inboxAPIKey, body); code != http.StatusBadRequest || apiErrCode(res) != protocol.CodeBadRequest {
			t.Errorf("reply %s: %d %s, want 400 bad_request", body, code, res)
		}
	}
	wantMetrics(t, n, map[string]float64{
		"inbox_enqueued_total result=unavailable": 1, "inbox_enqueued_total result=ok": 0,
		"inbox_replies_total result=delivered": 0, "inbox_replies_total result=not_found": 0,
	})
}
