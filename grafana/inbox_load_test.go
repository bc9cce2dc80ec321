package grafana

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/wsgateway/wsgateway/service/worker"
)

// The inbox part of the live test's traffic: a sender on every node, and
// one worker (the real worker library) that answers most messages and
// dead-letters the others, so that every inbox, worker and webhook series
// the Inbox and events dashboard reads moves.
const (
	liveTopic      = "orders"
	sendEvery      = 50 * time.Millisecond
	sendersPerNode = 1
	// webhookSecret is a well-formed Standard Webhooks key for the nodes'
	// --webhook-secret; the receiver does not check signatures (the events
	// tests do).
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// inboxArgs are the gateway flags the live test's nodes need for the
// inbox and the lifecycle events: a webhook to webhookURL.
func inboxArgs(webhookURL string) []string {
	return []string{"--webhook-url", webhookURL, "--webhook-secret", webhookSecret}
}

// startWebhookReceiver accepts every webhook POST and returns its URL.
func startWebhookReceiver(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/events"
}

// startWorker runs a worker of liveTopic in the test process, with its
// metrics served over HTTP for Prometheus. It replies to every message
// except those whose data is "fail", which it marks permanent (dead
// letters). It returns the metrics address and the registry.
func startWorker(t *testing.T, redisURL string, api string) (addr string, reg *prometheus.Registry) {
	t.Helper()
	rdb, err := worker.NewRedis(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	reg = prometheus.NewRegistry()
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- worker.Run(ctx, worker.Options{Redis: rdb, Topic: liveTopic, Name: "worker-0",
			APIURL: "http://" + api, Registerer: reg, DrainTimeout: 5 * time.Second,
			Logger: slog.New(slog.DiscardHandler)},
			func(ctx context.Context, m *worker.Message) error {
				if string(m.Data) == `"fail"` {
					return worker.Permanent(errors.New("the live test's failing message"))
				}
				if err := m.Reply(ctx, map[string]string{"ok": m.ID}); err != nil && !errors.Is(err, worker.ErrSenderGone) {
					return err
				}
				return nil
			})
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil && !errors.Is(err, context.Canceled) {
				t.Errorf("worker: %v", err)
			}
		case <-time.After(stopTimeout):
			t.Errorf("the worker did not stop within %v", stopTimeout)
		}
		srv.Close()
		rdb.Close()
	})
	return strings.TrimPrefix(srv.URL, "http://"), reg
}

// startSenders keeps one client per node sending to liveTopic until the
// test ends; one message in five is "fail". Answers are drained: whether a
// send was queued or refused (no worker yet) is what the dashboards show.
func startSenders(t *testing.T, nodes []node) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var conns []*websocket.Conn
	for _, n := range nodes {
		c := subscriber(t, n, []string{`{"id":1,"op":"connect"}`})
		conns = append(conns, c)
		wg.Go(func() { drain(c) })
		wg.Go(func() {
			tick := time.NewTicker(sendEvery)
			defer tick.Stop()
			for i := 2; ; i++ {
				select {
				case <-ctx.Done():
					return
				case <-tick.C:
				}
				data := `{"n":` + fmt.Sprint(i) + `}`
				if i%5 == 0 {
					data = `"fail"`
				}
				err := c.WriteMessage(websocket.TextMessage,
					fmt.Appendf(nil, `{"id":%d,"op":"send","topic":%q,"data":%s}`, i, liveTopic, data))
				if err != nil {
					return
				}
			}
		})
	}
	t.Cleanup(func() {
		cancel()
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	})
}
