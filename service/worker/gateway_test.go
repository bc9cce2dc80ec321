package worker_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
	"github.com/wsgateway/wsgateway/service/worker"
)

const (
	testSecret = "worker-test-secret-0123456789abcdef"
	testAPIKey = "worker-test-key"
)

// gateway runs one real gateway node (in process) on a fresh Redis and
// returns it with a client of that Redis.
func gateway(t testing.TB, args ...string) (*gatewaytest.Node, redis.UniversalClient) {
	srv := redistest.Start(t, redistest.Options{})
	n := gatewaytest.Start(t, gatewaytest.Options{InProcess: true, Args: append([]string{
		"--redis-url", srv.URL(), "--jwt-secret", testSecret, "--api-key", testAPIKey, "--inbox-partitions", "4",
	}, args...)})
	return n, client(t, &redis.UniversalOptions{Addrs: []string{addr(srv.URL())}})
}

// wsClient is a bare protocol client: the Go client has no send.
type wsClient struct {
	t  testing.TB
	ws *websocket.Conn
	// lines read but not yet returned: the server packs several replies and
	// pushes into one frame, one JSON object per line (docs/protocol.md).
	lines [][]byte
}

func dialUser(t testing.TB, n *gatewaytest.Node, user string) *wsClient {
	t.Helper()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": user, "exp": time.Now().Add(time.Hour).Unix(), "send": []string{"orders"},
	}).SignedString([]byte(testSecret))
	if err != nil {
		t.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial(n.URL(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	c := &wsClient{t: t, ws: ws}
	c.call(map[string]any{"id": 1, "op": "connect", "token": tok})
	return c
}

// call writes cmd and returns its reply's result, skipping pushes.
func (c *wsClient) call(cmd map[string]any) json.RawMessage {
	c.t.Helper()
	if err := c.ws.WriteJSON(cmd); err != nil {
		c.t.Fatal(err)
	}
	for {
		f := c.next()
		if f["id"] == nil || f["push"] != nil {
			continue
		}
		if f["error"] != nil {
			c.t.Fatalf("%v: error %s", cmd["op"], f["error"])
		}
		return f["result"]
	}
}

func (c *wsClient) next() map[string]json.RawMessage {
	c.t.Helper()
	for len(c.lines) == 0 {
		c.ws.SetReadDeadline(time.Now().Add(20 * time.Second))
		_, frame, err := c.ws.ReadMessage()
		if err != nil {
			c.t.Fatalf("reading a frame: %v", err)
		}
		for _, l := range bytes.Split(frame, []byte("\n")) {
			if len(bytes.TrimSpace(l)) > 0 {
				c.lines = append(c.lines, l)
			}
		}
	}
	var f map[string]json.RawMessage
	if err := json.Unmarshal(c.lines[0], &f); err != nil {
		c.t.Fatalf("frame line %q: %v", c.lines[0], err)
	}
	c.lines = c.lines[1:]
	return f
}

func (c *wsClient) send(data string) string {
	c.t.Helper()
	var r struct{ ID string }
	if err := json.Unmarshal(c.call(map[string]any{"id": 2, "op": "send", "topic": "orders", "data": json.RawMessage(data)}), &r); err != nil {
		c.t.Fatal(err)
	}
	return r.ID
}

// startWorker runs a worker on the gateway's Redis and API, and waits until
// the gateway can see it (else send answers unavailable).
func startWorker(t testing.TB, n *gatewaytest.Node, rdb redis.UniversalClient, h worker.Handler) {
	stop := runAsync(func(ctx context.Context) error {
		return worker.Run(ctx, worker.Options{Redis: rdb, Topic: "orders", APIURL: n.APIURL(), APIKey: testAPIKey,
			Backoff: fastBackoff}, h)
	})
	t.Cleanup(func() { _ = stop() })
	eventually(t, 10*time.Second, "the worker in the workers set", func() bool {
		return rdb.ZCard(context.Background(), "wsg:s:orders:workers").Val() > 0
	})
}

// A worker's Reply reaches its sender as a reply push with the message id.
func TestReplyReachesSenderThroughGateway(t *testing.T) {
	n, rdb := gateway(t)
	startWorker(t, n, rdb, func(ctx context.Context, m *worker.Message) error {
		return m.Reply(ctx, map[string]any{"echo": m.Data, "user": m.User})
	})
	c := dialUser(t, n, "alice")
	id := c.send(`{"q":1}`)
	for {
		f := c.next()
		if string(f["push"]) != `"reply"` {
			continue
		}
		if got := string(f["id"]); got != `"`+id+`"` {
			t.Fatalf("reply push for %s, want %s", got, id)
		}
		if got := string(f["data"]); got != `{"echo":{"q":1},"user":"alice"}` {
			t.Fatalf("reply data %s", got)
		}
		return
	}
}

// A sender that left: Reply is ErrSenderGone, and the handler publishes to
// user:<id> instead, which the client would recover.
func TestReplyToGoneSenderThenPublishToUser(t *testing.T) {
	n, rdb := gateway(t)
	left := make(chan struct{})
	outcome := make(chan error, 1)
	startWorker(t, n, rdb, func(ctx context.Context, m *worker.Message) error {
		<-left
		var err error
		for range 100 { // the node forgets the connection just after it closes
			if err = m.Reply(ctx, "late"); errors.Is(err, worker.ErrSenderGone) {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		outcome <- err
		return m.Publish(ctx, "user:"+m.User, map[string]string{"reply_to": m.ID})
	})
	c := dialUser(t, n, "bob")
	id := c.send(`1`)
	c.ws.Close()
	close(left)
	if err := <-outcome; !errors.Is(err, worker.ErrSenderGone) {
		t.Fatalf("Reply to a gone sender = %v, want ErrSenderGone", err)
	}
	eventually(t, 10*time.Second, "the publication in user:bob's history", func() bool {
		pubs := history(t, n, "user:bob")
		return len(pubs) == 1 && string(pubs[0].Data) == `{"reply_to":"`+id+`"}`
	})
}

// Publish uses a key derived from the message id, so the retry of a message
// that had published before failing does not publish again.
func TestPublishIdempotentAcrossRedelivery(t *testing.T) {
	n, rdb := gateway(t)
	var runs atomic.Int32
	startWorker(t, n, rdb, func(ctx context.Context, m *worker.Message) error {
		if err := m.Publish(ctx, "news", map[string]string{"from": m.ID}); err != nil {
			return err
		}
		if runs.Add(1) == 1 {
			return errors.New("failed after publishing")
		}
		return nil
	})
	c := dialUser(t, n, "carol")
	c.send(`1`)
	eventually(t, 20*time.Second, "two runs", func() bool { return runs.Load() == 2 })
	if pubs := history(t, n, "news"); len(pubs) != 1 {
		t.Fatalf("news history holds %d publications after two runs, want 1: %v", len(pubs), pubs)
	}
}

type pub struct {
	Offset uint64
	Data   json.RawMessage
}

func history(t *testing.T, n *gatewaytest.Node, channel string) []pub {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, n.APIURL()+"/api/v1/history?channel="+url.QueryEscape(channel), nil)
	req.Header.Set("Authorization", "apikey "+testAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var h struct{ Publications []pub }
	if resp.StatusCode != 200 || json.Unmarshal(body, &h) != nil {
		t.Fatalf("history %s: %d %s", channel, resp.StatusCode, body)
	}
	return h.Publications
}

// A message that fails MaxAttempts times is dead-lettered and its sender
// gets an internal error as its reply push.
func TestDeadLetterRepliesErrorToSender(t *testing.T) {
	n, rdb := gateway(t)
	startWorker(t, n, rdb, func(ctx context.Context, m *worker.Message) error {
		return errors.New("database down")
	})
	c := dialUser(t, n, "dan")
	id := c.send(`1`)
	for {
		f := c.next()
		if string(f["push"]) != `"reply"` {
			continue
		}
		if got := string(f["id"]); got != `"`+id+`"` {
			t.Fatalf("reply push for %s, want %s", got, id)
		}
		var e struct{ Code, Message string }
		if err := json.Unmarshal(f["error"], &e); err != nil || e.Code != "internal" {
			t.Fatalf("reply push error %s, want code internal", f["error"])
		}
		break
	}
	dead, err := worker.DeadLetters(context.Background(), rdb, "orders", 10)
	if err != nil || len(dead) != 1 || dead[0].MessageID != id || dead[0].Attempts != 5 {
		t.Fatalf("dead letters %+v, %v; want %s after 5 attempts", dead, err, id)
	}
}
