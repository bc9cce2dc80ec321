package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// TestInboxOnCluster: on a three-master Redis Cluster, a send is queued in
// its partition's slot, a reply posted to another node reaches the sender,
// and a dead letter is listed and re-driven through the API with its
// message id, so the sender still gets the reply to it.
func TestInboxOnCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := context.Background()
	a := startInboxNode(t, cl.URL(), "node-a")
	b := startInboxNode(t, cl.URL(), "node-b")
	if err := rdb.ZAdd(ctx, streams.WorkersKey("jobs"), redis.Z{Score: float64(time.Now().UnixMilli()), Member: "w"}).Err(); err != nil {
		t.Fatal(err)
	}
	alice := connected(t, a, sendToken(t, "alice", "jobs"))
	sent := resultOf[protocol.SendResult](t, alice.call(sendCmd("jobs", `{"n":1}`, "once")))
	_, part, entry, err := streams.ParseID(sent.ID)
	if err != nil {
		t.Fatal(err)
	}
	p := streams.Part{Group: "jobs", N: part}

	// A worker gives up on it: the dead letter carries the original fields
	// plus the dead ones (docs/streams.md), then XACK and XDEL.
	msgs, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: streams.GroupWorkers, Consumer: "w",
		Streams: []string{p.Stream(), ">"}, Count: 1, Block: -1}).Result()
	if err != nil || len(msgs[0].Messages) != 1 || msgs[0].Messages[0].ID != entry {
		t.Fatalf("XREADGROUP: %v %v", msgs, err)
	}
	vals := msgs[0].Messages[0].Values
	vals["orig_id"], vals["partition"], vals["attempts"], vals["error"], vals["dead_ms"] = entry, part, 5, "boom", time.Now().UnixMilli()
	deadID, err := rdb.XAdd(ctx, &redis.XAddArgs{Stream: streams.DeadKey("jobs"), Values: vals}).Result()
	if err != nil {
		t.Fatal(err)
	}
	rdb.XAck(ctx, p.Stream(), streams.GroupWorkers, entry)
	rdb.XDel(ctx, p.Stream(), entry)

	code, res := apiCall(t, b, "GET", "/api/v1/inbox/dead?topic=jobs&limit=10", inboxAPIKey, "")
	var dead struct {
		Messages []protocol.DeadLetter `json:"messages"`
	}
	if err := json.Unmarshal(res, &dead); code != http.StatusOK || err != nil || len(dead.Messages) != 1 {
		t.Fatalf("dead letters: %d %s", code, res)
	}
	if d := dead.Messages[0]; d.DeadID != deadID || d.ID != sent.ID || d.Attempts != 5 || d.Error != "boom" || string(d.Data) != `{"n":1}` {
		t.Errorf("dead letter %+v", d)
	}
	code, res = apiCall(t, b, "POST", "/api/v1/inbox/redrive", inboxAPIKey, `{"topic":"jobs","ids":["`+deadID+`"]}`)
	var redriven struct {
		Redriven []protocol.Redriven `json:"redriven"`
	}
	if err := json.Unmarshal(res, &redriven); code != http.StatusOK || err != nil || len(redriven.Redriven) != 1 || redriven.Redriven[0].ID != sent.ID {
		t.Fatalf("redrive: %d %s", code, res)
	}
	again, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: streams.GroupWorkers, Consumer: "w",
		Streams: []string{p.Stream(), ">"}, Count: 1, Block: -1}).Result()
	if err != nil || len(again[0].Messages) != 1 || again[0].Messages[0].Values["id"] != sent.ID {
		t.Fatalf("after re-drive the partition gives %v (%v), want the message again", again, err)
	}
	if n, _ := rdb.XLen(ctx, streams.DeadKey("jobs")).Result(); n != 0 {
		t.Errorf("%d dead letters left", n)
	}

	// The re-driven message keeps its id: the worker's reply reaches alice.
	body := fmt.Sprintf(`{"id":%q,"data":"done"}`, again[0].Messages[0].Values["id"])
	if code, res := apiCall(t, b, "POST", "/api/v1/reply", inboxAPIKey, body); code != http.StatusOK {
		t.Fatalf("reply: %d %s", code, res)
	}
	if push, want := string(alice.nextRaw(5*time.Second)), `{"push":"reply","id":"`+sent.ID+`","data":"done"}`; push != want {
		t.Errorf("push %s, want %s", push, want)
	}
	if code, _ := apiCall(t, b, "GET", "/api/v1/inbox/dead?topic=events", inboxAPIKey, ""); code != http.StatusBadRequest {
		t.Errorf("dead letters of the reserved events group: %d, want 400", code)
	}
}
