package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/client"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

// TestInboxGoClient: the Go client's Send generates a key per call (two
// sends, two messages), SendAndWait returns the worker's reply, and a reply
// no call waits for reaches OnReply, on the real binary with two nodes: the
// worker answers through the other node's API.
func TestInboxGoClient(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	rdb := srv.Client()
	a := startInboxNode(t, srv.URL(), "node-a")
	b := startInboxNode(t, srv.URL(), "node-b")
	workerAlive(t, rdb, "orders")
	tok := sendToken(t, "alice", "orders")
	replies := make(chan client.Reply, 10)
	connected := make(chan struct{}, 1)
	c := startClient(t, client.Options{URL: a.URL(),
		Token:       func(context.Context) (string, error) { return tok, nil },
		OnConnected: func(client.ConnectInfo) { connected <- struct{}{} },
		OnReply:     func(r client.Reply) { replies <- r }})
	select {
	case <-connected:
	case <-time.After(10 * time.Second):
		t.Fatal("not connected within 10 s")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()

	// The worker: answers every message of alice's partition with its data
	// doubled, through node b.
	p := streams.Part{Group: "orders", N: streams.Partition("alice", 4)}
	workerErr := make(chan error, 1)
	go func() { workerErr <- echoWorker(ctx, rdb, p, b) }()

	first, err := c.Send(ctx, "orders", map[string]int{"n": 1}, client.SendOptions{})
	if err != nil {
		t.Fatal(err)
	}
	second, err := c.Send(ctx, "orders", map[string]int{"n": 1}, client.SendOptions{})
	if err != nil || second.ID == first.ID || second.Duplicate {
		t.Fatalf("second send without a key = %+v (%v), want a new message", second, err)
	}
	// Neither send waits: both replies reach OnReply, in order.
	for _, id := range []string{first.ID, second.ID} {
		select {
		case r := <-replies:
			if r.ID != id || string(r.Data) != `{"echo":{"n":1}}` {
				t.Errorf("OnReply %+v, want %s echoed", r, id)
			}
		case err := <-workerErr:
			t.Fatalf("worker: %v", err)
		case <-ctx.Done():
			t.Fatal("no reply in time")
		}
	}
	r, err := c.SendAndWait(ctx, "orders", "ping", client.SendOptions{IdempotencyKey: "wait-1"})
	if err != nil || string(r.Data) != `{"echo":"ping"}` || r.Err != nil {
		t.Fatalf("SendAndWait = %+v, %v", r, err)
	}
	select {
	case extra := <-replies:
		t.Errorf("the reply SendAndWait took also reached OnReply: %+v", extra)
	default:
	}
}

// echoWorker reads partition p as a worker would (group workers) and
// answers each message with {"echo": data} through node g's API, acking
// and deleting it, until ctx ends.
func echoWorker(ctx context.Context, rdb *redis.Client, p streams.Part, g *gw) error {
	for ctx.Err() == nil {
		res, err := rdb.XReadGroup(ctx, &redis.XReadGroupArgs{Group: streams.GroupWorkers, Consumer: "echo",
			Streams: []string{p.Stream(), ">"}, Count: 10, Block: 100 * time.Millisecond}).Result()
		if err == redis.Nil || (err != nil && ctx.Err() != nil) {
			continue
		}
		if err != nil && !isNoGroup(err) {
			return err
		}
		for _, s := range res {
			for _, m := range s.Messages {
				body := fmt.Sprintf(`{"id":%q,"data":{"echo":%s}}`, m.Values["id"], m.Values["data"])
				req, _ := http.NewRequestWithContext(ctx, "POST", g.APIURL()+"/api/v1/reply", strings.NewReader(body))
				req.Header.Set("Authorization", "apikey "+inboxAPIKey)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return err
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					return fmt.Errorf("reply to %s: %d", m.Values["id"], resp.StatusCode)
				}
				rdb.XAck(ctx, p.Stream(), streams.GroupWorkers, m.ID)
				rdb.XDel(ctx, p.Stream(), m.ID)
			}
		}
	}
	return nil
}

// isNoGroup: the group does not exist until the first send creates it.
func isNoGroup(err error) bool {
	return strings.HasPrefix(err.Error(), "NOGROUP")
}
