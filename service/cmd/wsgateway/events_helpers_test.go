package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"

	"github.com/wsgateway/wsgateway/service/protocol"
	"github.com/wsgateway/wsgateway/service/streams"
)

// Helpers of the lifecycle events tests (events_*_test.go): they read the
// events stream straight from Redis, as a worker in any language would, and
// receive webhooks on a real HTTP server.

// webhookSecret is the Standard Webhooks spec's example secret.
const webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

// event is one lifecycle event as the stream (and the webhook) carry it.
type event struct {
	ID      string `json:"id"`
	Type    string `json:"type"`
	Subject string `json:"subject"`
	Seq     int64  `json:"seq"`
	User    string `json:"user"`
	Client  string `json:"client"`
	Channel string `json:"channel"`
	Node    string `json:"node"`
	Code    any    `json:"code"` // a number, or "node_lost"
}

func (e event) String() string {
	s := e.Type
	if e.Code != nil {
		s += fmt.Sprintf(" %v", e.Code)
	}
	return s
}

// streamEvents reads every events partition and returns the events by
// subject, checking that each subject's seq runs 1, 2, 3... in stream order.
func streamEvents(t testing.TB, rdb redis.UniversalClient) map[string][]event {
	t.Helper()
	ctx := context.Background()
	p, err := streams.Partitions(ctx, rdb, streams.Events)
	if err != nil {
		t.Fatalf("events partitions: %v", err)
	}
	out := map[string][]event{}
	for n := range p {
		msgs, err := rdb.XRange(ctx, streams.Part{Group: streams.Events, N: n}.Stream(), "-", "+").Result()
		if err != nil {
			t.Fatalf("XRANGE: %v", err)
		}
		for _, m := range msgs {
			e := event{ID: streams.FormatID(streams.Events, n, m.ID)}
			e.Type, _ = m.Values["type"].(string)
			e.Subject, _ = m.Values["subject"].(string)
			e.User, _ = m.Values["user"].(string)
			e.Client, _ = m.Values["client"].(string)
			e.Channel, _ = m.Values["channel"].(string)
			e.Node, _ = m.Values["node"].(string)
			e.Seq, _ = strconv.ParseInt(m.Values["seq"].(string), 10, 64)
			if c, ok := m.Values["code"].(string); ok {
				e.Code = c
			}
			if want := int64(len(out[e.Subject]) + 1); e.Seq != want {
				t.Errorf("%s: %s has seq %d, want %d: seq grows by one per subject", e.Subject, e.Type, e.Seq, want)
			}
			out[e.Subject] = append(out[e.Subject], e)
		}
	}
	return out
}

// typesOf lists a subject's events as "type" or "type code".
func typesOf(evs []event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.String()
	}
	return out
}

// waitEvents waits until subject's events are exactly want and returns the
// whole log.
func waitEvents(t *testing.T, rdb redis.UniversalClient, timeout time.Duration, subject string, want ...string) map[string][]event {
	t.Helper()
	var got map[string][]event
	within(t, timeout, func() bool {
		got = streamEvents(t, rdb)
		return slices.Equal(typesOf(got[subject]), want)
	}, func() string { return fmt.Sprintf("%s: events %v, want %v", subject, typesOf(got[subject]), want) })
	return got
}

// stillEvents checks, after the vacated delay and a sweep or two have had
// their chance, that subject's events are exactly want.
func stillEvents(t *testing.T, rdb redis.UniversalClient, subject string, want ...string) {
	t.Helper()
	if got := typesOf(streamEvents(t, rdb)[subject]); !slices.Equal(got, want) {
		t.Errorf("%s: events %v, want %v", subject, got, want)
	}
}

// subscribeTo subscribes w to ch and fails unless it succeeded.
func (w *wsConn) subscribeTo(ch string) {
	w.t.Helper()
	if m := w.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}); m.Error != nil {
		w.t.Fatalf("subscribe %s: %s", ch, show(m))
	}
}

func (w *wsConn) unsubscribeFrom(ch string) {
	w.t.Helper()
	if m := w.call(protocol.Command{Op: protocol.OpUnsubscribe, Channel: ch}); m.Error != nil {
		w.t.Fatalf("unsubscribe %s: %s", ch, show(m))
	}
}

// closeWith sends a close frame with code and waits for the server's.
func (w *wsConn) closeWith(code int) {
	w.t.Helper()
	_ = w.c.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, ""), time.Now().Add(time.Second))
	w.closedNoFail(5 * time.Second)
}

// receiver is a real HTTP webhook receiver. While down it answers 503. It
// verifies every request's Standard Webhooks signature and keeps the
// events of the accepted ones in arrival order.
type receiver struct {
	t   testing.TB
	srv *httptest.Server
	key []byte

	mu       sync.Mutex
	down     bool
	events   []event
	refused  int
	retried  int            // the most refusals of one webhook-id: the same batch sent again
	refusals map[string]int // webhook-id -> refusals
	badSigs  []string
	batchIDs map[string]int // webhook-id -> accepted deliveries
}

func newReceiver(t testing.TB) *receiver {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(webhookSecret, "whsec_"))
	if err != nil {
		t.Fatal(err)
	}
	r := &receiver{t: t, key: key, batchIDs: map[string]int{}, refusals: map[string]int{}}
	r.srv = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	id, ts := req.Header.Get("webhook-id"), req.Header.Get("webhook-timestamp")
	sec, _ := strconv.ParseInt(ts, 10, 64)
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.down {
		r.refused++
		r.refusals[id]++
		r.retried = max(r.retried, r.refusals[id])
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	if want := specSign(r.key, id, ts, body); req.Header.Get("webhook-signature") != want || id == "" ||
		time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		r.badSigs = append(r.badSigs, id)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var batch []event
	if err := json.Unmarshal(body, &batch); err != nil || len(batch) == 0 {
		r.badSigs = append(r.badSigs, "undecodable "+id)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.batchIDs[id]++
	r.events = append(r.events, batch...)
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) setDown(down bool) {
	r.mu.Lock()
	r.down = down
	r.mu.Unlock()
}

func (r *receiver) received() []event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// specSign is the Standard Webhooks signature, written here from the spec
// rather than taken from the gateway: v1,base64(HMAC-SHA256(key, id.ts.body)).
func specSign(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
