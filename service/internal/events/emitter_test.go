package events

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

type quiet struct{}

func (quiet) HandlePublication(*protocol.Publication) {}
func (quiet) HandleDisconnect(string)                 {}

// startEmitter runs an Emitter on a real Redis broker until the test ends.
func startEmitter(t *testing.T, url string) *Emitter {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	reg := prometheus.NewRegistry()
	rb, err := broker.NewRedis(broker.RedisOptions{URL: url, HistorySize: 10, HistoryTTL: time.Minute,
		Node: func() protocol.NodeInfo { return protocol.NodeInfo{Node: "n1"} }, Log: log,
		Metrics: broker.NewMetrics(reg)}, quiet{})
	if err != nil {
		t.Fatal(err)
	}
	e := New(rb, Options{Node: "n1", Partitions: 4, Log: log, Metrics: NewMetrics(reg),
		Timing: broker.LifecycleTiming{VacatedDelay: 100 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; rb.Close() })
	return e
}

// typesIn reads subject's event types from the stream.
func typesIn(t *testing.T, srv *redistest.Server, subject string) []string {
	t.Helper()
	ctx := context.Background()
	p, err := streams.Partitions(ctx, srv.Client(), streams.Events)
	if err != nil {
		return nil
	}
	msgs, err := srv.Client().XRange(ctx, streams.Part{Group: streams.Events, N: streams.Partition(subject, p)}.Stream(), "-", "+").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Values["subject"] == subject {
			out = append(out, m.Values["type"].(string))
		}
	}
	return out
}

func waitTypes(t *testing.T, srv *redistest.Server, timeout time.Duration, subject string, want ...string) {
	t.Helper()
	var got []string
	for end := time.Now().Add(timeout); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if got = typesIn(t, srv, subject); slices.Equal(got, want) {
			return
		}
	}
	t.Fatalf("%s: %v, want %v", subject, got, want)
}

func TestEmitterReportsInOrder(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := startEmitter(t, srv.URL())
	e.Opened("ann", "c1")
	e.Subscribed("ann", "c1", "room")
	e.Unsubscribed("ann", "c1", "room")
	e.Closed("ann", "c1", 1000)
	waitTypes(t, srv, 10*time.Second, "user:ann", "user.online", "user.offline")
	waitTypes(t, srv, 10*time.Second, "client:c1", "connection.opened", "connection.closed")
	waitTypes(t, srv, 10*time.Second, "channel:room", "channel.occupied", "presence.join", "presence.leave", "channel.vacated")
}

// TestEmitterHealsAfterRedisReturns: what was reported while Redis was
// down (stopped; its append-only file keeps the data) is written by the
// first refresh after it came back: the adds and the removals.
func TestEmitterHealsAfterRedisReturns(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{AppendOnly: true})
	e := startEmitter(t, srv.URL())
	e.Opened("ann", "c1")
	waitTypes(t, srv, 10*time.Second, "user:ann", "user.online")
	srv.Stop()
	e.Opened("bob", "c2")
	e.Closed("ann", "c1", 1001)
	time.Sleep(time.Second) // the writer tried and failed
	srv.Restart(t)
	waitTypes(t, srv, 20*time.Second, "user:bob", "user.online")
	waitTypes(t, srv, 10*time.Second, "user:ann", "user.online", "user.offline")
}

// TestEmitterAfterRedisLostItsData: a Redis restarted empty gets the
// partition count and this node's live entries back.
func TestEmitterAfterRedisLostItsData(t *testing.T) {
	srv := redistest.Start(t, redistest.Options{})
	e := startEmitter(t, srv.URL())
	e.Opened("ann", "c1")
	waitTypes(t, srv, 10*time.Second, "user:ann", "user.online")
	srv.Stop()
	srv.Restart(t)
	waitTypes(t, srv, 20*time.Second, "user:ann", "user.online")
}
