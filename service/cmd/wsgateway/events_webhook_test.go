package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/streams"
)

// churn makes lifecycle events: users connect, subscribe, leave and close.
func churn(t *testing.T, g *gw, users int) {
	t.Helper()
	for i := range users {
		user := fmt.Sprintf("user-%d", i)
		c := connected(t, g, token(t, user, time.Hour, []string{"lobby", "room-" + user}, nil))
		c.subscribeTo("lobby")
		c.subscribeTo("room-" + user)
		c.unsubscribeFrom("room-" + user)
		c.closeWith(1000)
	}
}

// TestEventsWebhookReceiverDown: the receiver refuses every POST for a
// while; once it is back, every event of the stream arrives, in order per
// subject (seq 1, 2, 3...), each batch signed per Standard Webhooks (checked
// by the receiver with its own HMAC code).
func TestEventsWebhookReceiverDown(t *testing.T) {
	t.Parallel()
	t.Run("standalone", func(t *testing.T) {
		srv := redistest.Start(t, redistest.Options{})
		testWebhookReceiverDown(t, srv.URL(), srv.Client())
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartCluster(t)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
		t.Cleanup(func() { rdb.Close() })
		testWebhookReceiverDown(t, cl.URL(), rdb)
	})
}

func testWebhookReceiverDown(t *testing.T, url string, rdb redis.UniversalClient) {
	rcv := newReceiver(t)
	rcv.setDown(true)
	g := eventsNode(t, url, "node-a", "--vacated-delay", "200ms",
		"--webhook-url", rcv.srv.URL, "--webhook-secret", webhookSecret)
	churn(t, g, 5)
	// Down until one batch was refused three times: sent, and retried twice
	// with backoff (1 s, then 2 s).
	within(t, 30*time.Second, func() bool { rcv.mu.Lock(); defer rcv.mu.Unlock(); return rcv.retried >= 3 },
		func() string { return "the sender did not retry a refused batch" })
	if n := metric(t, g, "webhook_deliveries_total result=failed"); n < 3 {
		t.Errorf("failed deliveries %v, want at least 3", n)
	}
	if n := metric(t, g, "events_backlog"); n <= 0 {
		t.Errorf("events_backlog %v while the receiver is down, want > 0", n)
	}
	rcv.setDown(false)

	// Every event in the stream, now and after the last vacated, arrives.
	var want map[string][]event
	within(t, 30*time.Second, func() bool {
		want = streamEvents(t, rdb)
		return len(rcv.received()) >= count(want) && count(want) > 0
	}, func() string {
		return fmt.Sprintf("received %d events, the stream holds %d", len(rcv.received()), count(want))
	})
	got := map[string][]event{}
	for _, e := range rcv.received() {
		got[e.Subject] = append(got[e.Subject], e)
	}
	for subject, evs := range want {
		if len(got[subject]) != len(evs) {
			t.Errorf("%s: received %v, the stream holds %v", subject, typesOf(got[subject]), typesOf(evs))
			continue
		}
		for i, e := range got[subject] {
			if e.Seq != int64(i+1) || e.ID != evs[i].ID || e.Type != evs[i].Type {
				t.Errorf("%s: event %d received as %s seq %d id %s, want %s seq %d id %s", subject, i,
					e.Type, e.Seq, e.ID, evs[i].Type, i+1, evs[i].ID)
			}
		}
	}
	rcv.mu.Lock()
	if len(rcv.badSigs) > 0 {
		t.Errorf("requests with a bad signature: %v", rcv.badSigs)
	}
	rcv.mu.Unlock()
	wantMetrics(t, g, map[string]float64{"events_backlog": 0, "webhook_deliveries_total result=dead": 0})
	if n := metric(t, g, "webhook_deliveries_total result=ok"); n < 1 {
		t.Errorf("ok deliveries %v", n)
	}
}

// TestEventsWebhookDeadLetter: a batch refused for the whole retry window
// goes to the dead letters with why; the partition moves on.
func TestEventsWebhookDeadLetter(t *testing.T) {
	t.Parallel()
	t.Run("standalone", func(t *testing.T) {
		srv := redistest.Start(t, redistest.Options{})
		testWebhookDeadLetter(t, srv.URL(), srv.Client())
	})
	t.Run("cluster", func(t *testing.T) {
		cl := redistest.StartCluster(t)
		rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs()})
		t.Cleanup(func() { rdb.Close() })
		testWebhookDeadLetter(t, cl.URL(), rdb)
	})
}

func testWebhookDeadLetter(t *testing.T, url string, rdb redis.UniversalClient) {
	rcv := newReceiver(t)
	rcv.setDown(true)
	g := eventsNode(t, url, "node-a", "--webhook-url", rcv.srv.URL, "--webhook-secret", webhookSecret,
		"--webhook-retry-window", "3s")
	churn(t, g, 1)
	within(t, 20*time.Second, func() bool { return metric(t, g, "webhook_deliveries_total result=dead") >= 1 },
		func() string { return "no batch was dead-lettered" })
	dead, err := rdb.XRange(context.Background(), streams.DeadHookKey, "-", "+").Result()
	if err != nil || len(dead) == 0 {
		t.Fatalf("dead letters: %v, %v", dead, err)
	}
	for _, f := range []string{"type", "subject", "seq", "orig_id", "partition", "attempts", "error", "dead_ms"} {
		if _, ok := dead[0].Values[f]; !ok {
			t.Errorf("dead letter %v lacks %s", dead[0].Values, f)
		}
	}
	rcv.setDown(false)
	c := connected(t, g, token(t, "late", time.Hour, nil, nil))
	c.closeWith(1000)
	within(t, 20*time.Second, func() bool {
		for _, e := range rcv.received() {
			if e.Subject == "user:late" && e.Type == "user.offline" {
				return true
			}
		}
		return false
	}, func() string { return "events after a dead letter were not delivered" })
}

func count(m map[string][]event) int {
	n := 0
	for _, evs := range m {
		n += len(evs)
	}
	return n
}
