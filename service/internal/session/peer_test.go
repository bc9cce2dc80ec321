package session

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/internal/broker"
	"github.com/wsgateway/wsgateway/service/internal/hub"
)

// newTestManager returns a Manager over the in-process broker of a single
// node, with a hub and metrics of its own. A nil v stands for
// auth.DevVerifier, as in --dev without a key.
func newTestManager(cfg Config, v Verifier) *Manager {
	if v == nil {
		v = auth.DevVerifier{}
	}
	reg := prometheus.NewRegistry()
	h := hub.New(reg, nil)
	b := broker.NewMemory(broker.MemoryOptions{HistorySize: 100}, h)
	return NewManager(cfg, b, h, v, slog.New(slog.DiscardHandler), reg)
}

// peer is the client of one session served over net.Pipe. Its reader
// records, in order, what the client reads, each as a short phrase (see
// summarize); it answers pings unless told not to, and reads only while
// its gate is open.
type peer struct {
	m      *Manager
	conn   *websocket.Conn
	events chan string
	served chan struct{} // closed when Serve has returned
	data   bool          // summaries with data (peerOptions.data)

	mu   sync.Mutex
	gate chan struct{} // closed while the reader may read
}

type peerOptions struct {
	compress    bool
	readLimit   int64 // the server's wire read limit; 0: none
	ignorePings bool  // no pong: the client looks dead
	pongs       bool  // record the pongs the server answers to the client's pings
	data        bool  // summaries end with the data of results and pushes (withData)
	// info is what the upgrade learned; empty: a client at 192.0.2.1.
	info ConnInfo
}

// serve upgrades a connection over net.Pipe and serves it with m, as the
// server's upgrade handler does. The session ends when the test does.
func serve(t testing.TB, m *Manager, opt peerOptions) *peer {
	t.Helper()
	server, client := pipeConns(t, opt.compress)
	if opt.readLimit > 0 {
		server.SetReadLimit(opt.readLimit)
	}
	p := &peer{m: m, conn: client, data: opt.data, events: make(chan string, 1024), served: make(chan struct{}),
		gate: make(chan struct{})}
	close(p.gate)
	client.SetPingHandler(func(string) error {
		p.events <- "ping"
		if opt.ignorePings {
			return nil
		}
		return client.WriteControl(websocket.PongMessage, nil, time.Now().Add(time.Second))
	})
	if opt.pongs {
		client.SetPongHandler(func(string) error { p.events <- "pong"; return nil })
	}
	info := opt.info
	if info.Remote == "" {
		info.Remote = "192.0.2.1"
	}
	go func() {
		defer close(p.served)
		m.Serve(server, info)
	}()
	go p.read()
	t.Cleanup(p.finish)
	return p
}

func (p *peer) read() {
	for {
		p.mu.Lock()
		gate := p.gate
		p.mu.Unlock()
		<-gate
		_, msg, err := p.conn.ReadMessage()
		var ce *websocket.CloseError
		switch {
		case errors.As(err, &ce):
			p.events <- strings.TrimSpace(fmt.Sprintf("close %d %s", ce.Code, ce.Text))
			return
		case err != nil:
			p.events <- "gone" // no close frame
			return
		}
		for line := range bytes.SplitSeq(msg, []byte("\n")) {
			if p.data {
				p.events <- withData(line)
				continue
			}
			p.events <- summarize(line)
		}
	}
}

// pause stops the reader after the message it is reading, if any.
func (p *peer) pause() {
	p.mu.Lock()
	p.gate = make(chan struct{})
	p.mu.Unlock()
}

func (p *peer) resume() {
	p.mu.Lock()
	close(p.gate)
	p.mu.Unlock()
}

// send writes lines as one text frame.
func (p *peer) send(t testing.TB, lines ...string) {
	t.Helper()
	if err := p.conn.WriteMessage(websocket.TextMessage, []byte(strings.Join(lines, "\n"))); err != nil {
		t.Fatalf("send: %v", err)
	}
}

// sendRaw writes bytes on the connection as they are, past gorilla.
func (p *peer) sendRaw(t testing.TB, b []byte) {
	t.Helper()
	if _, err := p.conn.NetConn().Write(b); err != nil {
		t.Fatalf("send raw: %v", err)
	}
}

// readSoFar returns what the client read since the last call. It does not
// wait: call it in a bubble once synctest.Wait has returned.
func (p *peer) readSoFar() []string {
	var got []string
	for {
		select {
		case e := <-p.events:
			got = append(got, e)
		default:
			return got
		}
	}
}

// finish drops the client's side and waits for the session to end, and
// for the manager's stall watch, which ends at its next look once no
// session is left: a bubble must end with no goroutine left.
func (p *peer) finish() {
	p.conn.NetConn().Close()
	p.mu.Lock()
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
	p.mu.Unlock()
	<-p.served
	time.Sleep(stallCheck)
}

// summarize shortens a line the server wrote: "ok 3" for a result ("ok 3,
// 2 publications" for one that holds publications), "error 3 rate_limited"
// for an error, "push unsub chat:a insufficient_state" or "push pub chat:a
// 7" for a push.
func summarize(line []byte) string {
	var m struct {
		ID     uint64 `json:"id"`
		Result *struct {
			Publications []json.RawMessage `json:"publications"`
		} `json:"result"`
		Error   *struct{ Code string }
		Push    string `json:"push"`
		Channel string `json:"channel"`
		Offset  uint64 `json:"offset"`
		Reason  string `json:"reason"`
	}
	if err := json.Unmarshal(line, &m); err != nil {
		return "undecodable: " + string(line)
	}
	switch {
	case m.Error != nil:
		return fmt.Sprintf("error %d %s", m.ID, m.Error.Code)
	case m.Push == "pub":
		return fmt.Sprintf("push pub %s %d", m.Channel, m.Offset)
	case m.Push != "":
		return strings.TrimSpace(fmt.Sprintf("push %s %s %s", m.Push, m.Channel, m.Reason))
	case m.Result != nil && m.Result.Publications != nil:
		return fmt.Sprintf("ok %d, %d publications", m.ID, len(m.Result.Publications))
	}
	return fmt.Sprintf("ok %d", m.ID)
}

// value reads a counter or gauge.
func value(t testing.TB, m prometheus.Metric) float64 {
	t.Helper()
	var d dto.Metric
	if err := m.Write(&d); err != nil {
		t.Fatal(err)
	}
	if c := d.GetCounter(); c != nil {
		return c.GetValue()
	}
	return d.GetGauge().GetValue()
}

// Commands as a client writes them.
func connectCmd(id int, token string) string {
	if token == "" {
		return fmt.Sprintf(`{"id":%d,"op":"connect"}`, id)
	}
	return fmt.Sprintf(`{"id":%d,"op":"connect","token":%q}`, id, token)
}

func pingCmd(id int) string { return fmt.Sprintf(`{"id":%d,"op":"ping"}`, id) }

func refreshCmd(id int, token string) string {
	return fmt.Sprintf(`{"id":%d,"op":"refresh","token":%q}`, id, token)
}
