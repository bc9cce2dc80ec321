package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/streams"
	"github.com/wsgateway/wsgateway/service/worker"
)

// roundTripRun is one line of -suite inbox: the round trip with a number of
// workers.
type roundTripRun struct {
	Suite         string  `json:"suite"`
	Phase         string  `json:"phase"` // roundtrip
	Workers       int     `json:"workers"`
	Senders       int     `json:"senders"`
	Topic         string  `json:"topic"`
	WarmupSeconds float64 `json:"warmup_s"`
	WindowSeconds float64 `json:"window_s"`
	// Messages are the reply pushes received in the window for sends
	// written in it.
	Messages    uint64  `json:"messages"`
	MessagesPer float64 `json:"messages_per_s"`
	Latency     summary `json:"latency_ms"` // send written to reply push read, window only
	Errors      uint64  `json:"errors"`     // sends answered with an error, whole run
	ErrorSample string  `json:"error_sample,omitempty"`
	// RedisCPU is Redis's CPU over the window, in cores (INFO cpu), and
	// PerRedisCore the messages per Redis CPU second.
	RedisCPU     float64 `json:"redis_cpu_cores"`
	PerRedisCore float64 `json:"messages_per_redis_core_s"`
	ServerCPU    float64 `json:"gateway_cpu_cores"`
	ToolCPU      float64 `json:"tool_cpu_cores"` // the senders and the workers
	HostCPU      float64 `json:"host_cpu_cores"`
	HostCPUs     int     `json:"host_cpus"`
	Error        string  `json:"error,omitempty"`
}

// sender is one client of its own user with one send in flight: send,
// then read until both its result and its reply push have come (either may
// come first). Its goroutine owns it until the coordinator reads the
// counters after it ended.
type sender struct {
	conn  *websocket.Conn
	topic string
	win   *window

	ok, failed uint64
	errFirst   string
	latency    histogram // µs, sends written inside the window
}

// firstReplyLimit bounds a sender's first round trip.
const firstReplyLimit = 30 * time.Second

// frame is any server message the sender reads: a command reply (numeric
// id) or a reply push (push "reply", string id).
type frame struct {
	ID     json.RawMessage `json:"id"`
	Push   string          `json:"push"`
	Result *struct {
		ID string `json:"id"`
	} `json:"result"`
	Error *struct {
		Code string `json:"code"`
	} `json:"error"`
}

// dialSender connects a client of user with the send claim for topic.
func dialSender(ctx context.Context, url, user, topic string, timeout time.Duration) (*websocket.Conn, error) {
	tok, err := auth.SignHS256([]byte(inboxJWTSecret), auth.TokenSpec{User: user, Send: []string{topic}, TTL: time.Hour})
	if err != nil {
		return nil, err
	}
	d := websocket.Dialer{Subprotocols: []string{subprotocol}, HandshakeTimeout: timeout}
	conn, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return nil, err
	}
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	if err := conn.WriteMessage(websocket.TextMessage, connectLine(tok)); err != nil {
		conn.Close()
		return nil, err
	}
	var f frame
	if err := conn.ReadJSON(&f); err != nil || f.Error != nil {
		conn.Close()
		return nil, fmt.Errorf("connect %s: %v %+v", user, err, f.Error)
	}
	return conn, nil
}

// loop sends until stop; each exchange is bounded by timeout. A send
// answered with an error (unavailable until a worker's first heartbeat) is
// counted and retried after a pause.
func (s *sender) loop(stop time.Time, timeout time.Duration) {
	pushed := map[string]bool{} // reply pushes read before their send's result
	for id := uint64(2); time.Now().Before(stop); id++ {
		t0 := time.Now()
		limit := timeout
		if id == 2 {
			// The first message waits for the workers to find the topic's
			// partitions and take their leases.
			limit = max(timeout, firstReplyLimit)
		}
		_ = s.conn.SetReadDeadline(t0.Add(limit))
		_ = s.conn.SetWriteDeadline(t0.Add(limit))
		cmd := fmt.Appendf(nil, `{"id":%d,"op":"send","topic":%q,"data":{"n":%d}}`, id, s.topic, id)
		if err := s.conn.WriteMessage(websocket.TextMessage, cmd); err != nil {
			s.fail(err.Error())
			return
		}
		msgID, err := s.await(id, pushed)
		var rerr readError
		switch {
		case errors.As(err, &rerr):
			s.fail(fmt.Sprintf("send %d (message %q) after %v: %v", id, msgID, time.Since(t0).Round(time.Millisecond), rerr.error))
			return
		case err != nil:
			s.failed++
			if s.errFirst == "" {
				s.errFirst = err.Error()
			}
			time.Sleep(10 * time.Millisecond)
			continue
		}
		s.ok++
		if s.win.contains(t0.UnixNano()) {
			s.latency.record(uint64(time.Since(t0).Microseconds()))
		}
	}
}

// await reads until the result of send id and the reply push of its
// message have both come. A send refused with an error returns that error
// and a non-empty marker instead of a message id.
func (s *sender) await(id uint64, pushed map[string]bool) (string, error) {
	want := fmt.Sprint(id)
	msgID := ""
	var frames []frame
	for {
		if len(frames) == 0 {
			var err error
			if frames, err = readFrames(s.conn); err != nil {
				return msgID, readError{err}
			}
			continue
		}
		f := frames[0]
		frames = frames[1:]
		switch {
		case f.Push == "reply":
			var m string
			_ = json.Unmarshal(f.ID, &m)
			if m == msgID && msgID != "" {
				return msgID, nil
			}
			pushed[m] = true
		case f.Push != "":
		case string(f.ID) == want && f.Error != nil:
			return "refused", errors.New("send: " + f.Error.Code)
		case string(f.ID) == want && f.Result != nil:
			msgID = f.Result.ID
			if pushed[msgID] {
				delete(pushed, msgID)
				return msgID, nil
			}
		}
	}
}

// readFrames reads one WebSocket message: the gateway may write several
// server messages in one, one JSON value each, separated by newlines.
func readFrames(c *websocket.Conn) ([]frame, error) {
	_, data, err := c.ReadMessage()
	if err != nil {
		return nil, err
	}
	var out []frame
	dec := json.NewDecoder(bytes.NewReader(data))
	for {
		var f frame
		if err := dec.Decode(&f); err == io.EOF {
			return out, nil
		} else if err != nil {
			return nil, fmt.Errorf("decode %q: %w", data, err)
		}
		out = append(out, f)
	}
}

// readError is a failed read: the connection is done.
type readError struct{ error }

func (s *sender) fail(msg string) {
	s.failed++
	if s.errFirst == "" {
		s.errFirst = msg
	}
}

// startWorkers runs n workers of topic in this process, each with a Redis
// client of its own, answering every message with its data. stop ends them
// and waits for their drain.
func startWorkers(n int, redisURL, api, topic string) (stop func() error, err error) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	errs := make([]error, n)
	var clients []interface{ Close() error }
	for i := range n {
		rdb, err := worker.NewRedis(redisURL)
		if err != nil {
			cancel()
			return nil, err
		}
		clients = append(clients, rdb)
		wg.Go(func() {
			errs[i] = worker.Run(ctx, worker.Options{Redis: rdb, Topic: topic, Name: fmt.Sprintf("wsbench-%d", i),
				APIURL: api, Logger: slog.New(slog.DiscardHandler), DrainTimeout: 5 * time.Second},
				func(ctx context.Context, m *worker.Message) error {
					if err := m.Reply(ctx, m.Data); err != nil && !errors.Is(err, worker.ErrSenderGone) {
						return err
					}
					return nil
				})
		})
	}
	return func() error {
		cancel()
		wg.Wait()
		for _, c := range clients {
			c.Close()
		}
		for _, err := range errs {
			if err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		}
		return nil
	}, nil
}

// waitForWorkers waits until n workers of topic have sent a heartbeat, so
// that the gateway queues sends instead of answering unavailable.
func waitForWorkers(ctx context.Context, env inboxEnv, topic string, n int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		got, err := env.rdb.ZCard(ctx, streams.WorkersKey(topic)).Result()
		if err == nil && got >= int64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d of %d workers of %s seen after %v (%v)", got, n, topic, limit, err)
		}
		if err := sleep(ctx, 50*time.Millisecond); err != nil {
			return err
		}
	}
}

// runRoundTrip measures the round trip with w workers on a fresh topic.
func runRoundTrip(ctx context.Context, log *slog.Logger, cfg config, env inboxEnv, w int) roundTripRun {
	topic := fmt.Sprintf("bench-%dw-%d", w, time.Now().UnixNano())
	res := roundTripRun{Suite: "inbox", Phase: "roundtrip", Workers: w, Senders: inboxSenders, Topic: topic,
		WarmupSeconds: cfg.warmup.Seconds(), WindowSeconds: cfg.duration.Seconds(), HostCPUs: runtime.NumCPU()}
	stop, err := startWorkers(w, env.redisURL, env.node.APIURL(), topic)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer func() {
		if err := stop(); err != nil && res.Error == "" {
			log.Warn("workers", "err", err)
		}
	}()
	if err := waitForWorkers(ctx, env, topic, w, 15*time.Second); err != nil {
		res.Error = err.Error()
		return res
	}
	win := &window{}
	senders := make([]*sender, inboxSenders)
	for i := range senders {
		conn, err := dialSender(ctx, env.node.URL(), fmt.Sprintf("user-%d", i), topic, cfg.dialTimeout)
		if err != nil {
			res.Error = err.Error()
			return res
		}
		defer conn.Close()
		senders[i] = &sender{conn: conn, topic: topic, win: win}
	}
	start := time.Now()
	end := start.Add(cfg.warmup + cfg.duration)
	win.start.Store(start.Add(cfg.warmup).UnixNano())
	win.end.Store(end.UnixNano())
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() { s.loop(end, cfg.dialTimeout) })
	}
	server, self := newProcWatch(env.node.PID()), &procWatch{pid: "self"}
	_ = sleep(ctx, cfg.warmup)
	srv0, self0 := server.read(log), self.read(log)
	r0, err0 := redisCPU(ctx, env.rdb)
	_ = sleep(ctx, cfg.duration)
	srv1, self1 := server.read(log), self.read(log)
	r1, err1 := redisCPU(ctx, env.rdb)
	wg.Wait()
	var lat merged
	for _, s := range senders {
		res.Errors += s.failed
		if res.ErrorSample == "" {
			res.ErrorSample = s.errFirst
		}
		lat.add(&s.latency)
	}
	res.Latency = lat.summarize()
	res.Messages = res.Latency.Count
	res.MessagesPer = round3(float64(res.Messages) / cfg.duration.Seconds())
	res.ServerCPU, res.ToolCPU, res.HostCPU = cores(srv0, srv1), cores(self0, self1), hostCores(self0, self1)
	if err := errors.Join(err0, err1); err != nil {
		res.Error = err.Error()
	} else if cpu := (r1 - r0).Seconds(); cpu > 0 {
		res.RedisCPU = round3(cpu / cfg.duration.Seconds())
		res.PerRedisCore = round3(float64(res.Messages) / cpu)
	}
	if ctx.Err() != nil {
		res.Error = "stopped before the end: " + context.Cause(ctx).Error()
	}
	return res
}
