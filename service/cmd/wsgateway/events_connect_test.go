package main

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// TestEventsConnectRate measures connects per second (each with a
// subscribe) on a node with lifecycle events (--events) and on one without,
// both on the same Redis, and checks that every connect's events were
// written once the storm is over (no backlog left), and only those of the
// node with --events. It logs the rates; it asserts no timing.
func TestEventsConnectRate(t *testing.T) {
	slowUnderShort(t, "a connect storm")
	const clients, dialers = 1000, 16
	srv := redistest.Start(t, redistest.Options{})
	withEvents := eventsNode(t, srv.URL(), "node-ev")
	plain := startBinary(t, "--redis-url", srv.URL(), "--node-id", "node-plain", "--jwt-secret", testSecret)
	tok := token(t, "storm", time.Hour, []string{"storm:room"}, nil)

	for _, run := range []struct {
		name string
		g    *gw
	}{{"redis, no events", plain}, {"redis, events", withEvents}} {
		start := time.Now()
		conns := storm(t, run.g, tok, clients, dialers)
		rate := float64(clients) / time.Since(start).Seconds()
		t.Logf("%s: %d connects+subscribes in %v: %.0f/s", run.name, clients, time.Since(start).Round(time.Millisecond), rate)
		for _, c := range conns {
			c.Close()
		}
	}
	// Every connection opened on the events node was reported opened and
	// (the sockets are closed now) closed: 2 events per client, and the
	// channel's join and leave.
	within(t, 60*time.Second, func() bool {
		return metric(t, withEvents, "events_emitted_total type=connection.closed") == clients &&
			metric(t, withEvents, "events_queued") == 0
	}, func() string {
		return fmt.Sprintf("closed %v of %d, queued %v", metric(t, withEvents, "events_emitted_total type=connection.closed"),
			clients, metric(t, withEvents, "events_queued"))
	})
	evs := streamEvents(t, srv.Client())
	opened := 0
	for subject, list := range evs {
		if len(list) > 0 && list[0].Type == "connection.opened" {
			opened++
			if got := typesOf(list); len(got) != 2 || got[1] != "connection.closed 1006" && got[1] != "connection.closed 1000" {
				t.Errorf("%s: %v", subject, got)
			}
		}
	}
	if opened != clients {
		t.Errorf("%d connections in the stream, want %d", opened, clients)
	}
	// Occupied, a join and a leave each, and vacated after the 3 s delay.
	within(t, 20*time.Second, func() bool { return len(streamEvents(t, srv.Client())["channel:storm:room"]) == 2*clients+2 },
		func() string {
			return fmt.Sprintf("channel:storm:room has %d events, want %d", len(streamEvents(t, srv.Client())["channel:storm:room"]), 2*clients+2)
		})
}

// storm opens n connections, each connected and subscribed, from dialers
// goroutines.
func storm(t *testing.T, g *gw, tok string, n, dialers int) []*websocket.Conn {
	t.Helper()
	conns := make([]*websocket.Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for d := range dialers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := d; i < n; i += dialers {
				c, _, err := dialRaw(g, nil)
				if err != nil {
					errs <- err
					return
				}
				conns[i] = c
				_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
				msg := fmt.Sprintf(`{"id":1,"op":"connect","token":%q}`+"\n"+`{"id":2,"op":"subscribe","channel":"storm:room"}`, tok)
				if err := c.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
					errs <- err
					return
				}
				for got := 0; got < 2; {
					_, frame, err := c.ReadMessage()
					if err != nil {
						errs <- err
						return
					}
					for _, b := range frame {
						if b == '\n' {
							got++
						}
					}
					got++
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("storm: %v", err)
	}
	return conns
}
