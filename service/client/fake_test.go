package client_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/client"
)

// within bounds every wait in these tests. It only turns a hang into a
// failure; no test asserts how long anything took.
const within = 5 * time.Second

// handler answers one command with the body of its reply, `"result":...`
// or `"error":...`; "" leaves the command unanswered.
type handler func(cmd fakeCmd) string

// fakeServer speaks just enough wsgateway.v1 for the client's tests: it
// records every command, answers from its handlers, and lets a test push
// frames and close connections.
type fakeServer struct {
	srv      *httptest.Server
	url      string
	handlers map[string]handler // read-only once serving
	// afterReply, if set, runs after each frame's replies are sent.
	afterReply func(fc *fakeConn, cmd fakeCmd)
	conns      chan *fakeConn // every accepted connection, in order
}

// fakeCmd is a command as the server decodes it. Frame numbers the frame
// it came in, per connection, from 1.
type fakeCmd struct {
	Op             string          `json:"op"`
	Token          string          `json:"token,omitempty"`
	Channel        string          `json:"channel,omitempty"`
	Method         string          `json:"method,omitempty"`
	Topic          string          `json:"topic,omitempty"`
	Recover        bool            `json:"recover,omitempty"`
	Offset         *uint64         `json:"offset,omitempty"`
	Epoch          string          `json:"epoch,omitempty"`
	Data           json.RawMessage `json:"data,omitempty"`
	IdempotencyKey string          `json:"idempotency_key,omitempty"`
	Since          *uint64         `json:"since,omitempty"`
	Limit          int             `json:"limit,omitempty"`
	ID             uint64          `json:"id"`
	Frame          int             `json:"-"`
}

// fakeConn is one accepted connection. Its read loop is the only reader;
// send and close may be called from the test goroutine.
type fakeConn struct {
	ws          *websocket.Conn
	subprotocol string
	wmu         sync.Mutex
	cmds        chan fakeCmd
	closed      chan int // the close code the client sent, or 1006
}

func defaultHandlers() map[string]handler {
	return map[string]handler{
		"connect": func(fakeCmd) string {
			return `"result":{"client":"c1","user":"alice","node":"n1","zone":"z1","ping_interval":25}`
		},
		"subscribe": func(fakeCmd) string {
			return `"result":{"offset":0,"epoch":"e1","recovered":false,"publications":[]}`
		},
		"unsubscribe": func(fakeCmd) string { return `"result":{}` },
		"publish":     func(fakeCmd) string { return `"result":{"offset":7,"epoch":"e1"}` },
	}
}

// newFakeServer starts a fake with the default handlers, replaced by
// overrides where given.
func newFakeServer(t testing.TB, overrides map[string]handler) *fakeServer {
	t.Helper()
	return newFakeServerAfter(t, overrides, nil)
}

// newFakeServerAfter is newFakeServer with an afterReply hook.
func newFakeServerAfter(t testing.TB, overrides map[string]handler, after func(*fakeConn, fakeCmd)) *fakeServer {
	t.Helper()
	s := &fakeServer{handlers: defaultHandlers(), afterReply: after, conns: make(chan *fakeConn, 16)}
	for op, h := range overrides {
		s.handlers[op] = h
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveWS))
	t.Cleanup(s.srv.Close)
	s.url = "ws" + strings.TrimPrefix(s.srv.URL, "http") + "/ws"
	return s
}

func (s *fakeServer) serveWS(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{Subprotocols: []string{"wsgateway.v1"}}
	ws, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	fc := &fakeConn{ws: ws, subprotocol: ws.Subprotocol(), cmds: make(chan fakeCmd, 1000), closed: make(chan int, 1)}
	s.conns <- fc
	fc.serve(s.handlers, s.afterReply)
}

func (fc *fakeConn) serve(handlers map[string]handler, after func(*fakeConn, fakeCmd)) {
	defer fc.ws.Close()
	for frame := 1; ; frame++ {
		_, msg, err := fc.ws.ReadMessage()
		if err != nil {
			code := websocket.CloseAbnormalClosure
			if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) {
				code = ce.Code
			}
			fc.closed <- code
			return
		}
		cmds := fc.decode(msg, frame)
		var replies []string
		for _, cmd := range cmds {
			if h := handlers[cmd.Op]; h != nil {
				if body := h(cmd); body != "" {
					replies = append(replies, fmt.Sprintf(`{"id":%d,%s}`, cmd.ID, body))
				}
			}
		}
		if len(replies) > 0 {
			fc.send(replies...)
		}
		for _, cmd := range cmds {
			if after != nil {
				after(fc, cmd)
			}
		}
	}
}

// decode reads the commands of one frame and records them.
func (fc *fakeConn) decode(msg []byte, frame int) []fakeCmd {
	var cmds []fakeCmd
	for _, line := range bytes.Split(msg, []byte("\n")) {
		var cmd fakeCmd
		if err := json.Unmarshal(line, &cmd); err != nil {
			panic(fmt.Sprintf("fake server: bad command %q: %v", line, err))
		}
		cmd.Frame = frame
		fc.cmds <- cmd
		cmds = append(cmds, cmd)
	}
	return cmds
}

// accept waits for the next connection.
func (s *fakeServer) accept(t testing.TB) *fakeConn {
	t.Helper()
	select {
	case fc := <-s.conns:
		return fc
	case <-time.After(within):
		t.Fatal("no connection came")
		return nil
	}
}

// next waits for the next command on the connection.
func (fc *fakeConn) next(t testing.TB) fakeCmd {
	t.Helper()
	select {
	case cmd := <-fc.cmds:
		return cmd
	case <-time.After(within):
		t.Fatal("no command came")
		return fakeCmd{}
	}
}

// send writes lines as one frame.
func (fc *fakeConn) send(lines ...string) {
	fc.sendFrame([]byte(strings.Join(lines, "\n")))
}

// sendFrame writes one text frame.
func (fc *fakeConn) sendFrame(frame []byte) {
	fc.wmu.Lock()
	defer fc.wmu.Unlock()
	_ = fc.ws.WriteMessage(websocket.TextMessage, frame)
}

// close starts the close handshake with code.
func (fc *fakeConn) close(code int, reason string) {
	msg := websocket.FormatCloseMessage(code, reason)
	_ = fc.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
}

// pub is a publication push in the server's encoding.
func pub(channel string, offset uint64, epoch, data, user string) string {
	line := fmt.Sprintf(`{"push":"pub","channel":%q,"offset":%d,"epoch":%q,"data":%s`, channel, offset, epoch, data)
	if user != "" {
		line += fmt.Sprintf(`,"user":%q`, user)
	}
	return line + "}"
}

// recorder turns the client's callbacks into readable lines, in order.
type recorder struct{ events chan string }

func newRecorder() *recorder { return &recorder{events: make(chan string, 1000)} }

func (r *recorder) add(format string, args ...any) { r.events <- fmt.Sprintf(format, args...) }

// options returns client options wired to r, with millisecond backoff.
func (r *recorder) options(url string) client.Options {
	return client.Options{
		URL:         url,
		BackoffBase: time.Millisecond,
		BackoffMax:  10 * time.Millisecond,
		OnConnected: func(i client.ConnectInfo) { r.add("connected %s", i.Client) },
		OnPublication: func(p client.Publication) {
			r.add("pub %s %d %s %s %s", p.Channel, p.Offset, p.Epoch, p.Data, p.User)
		},
		OnSubscribed: func(e client.SubscribedEvent) {
			r.add("subscribed %s %d %s recovered=%t was_recovering=%t", e.Channel, e.Offset, e.Epoch, e.Recovered, e.WasRecovering)
		},
		OnRecoveryFailed: func(ch string) { r.add("recovery_failed %s", ch) },
		OnUnsubscribed:   func(ch, reason string) { r.add("unsubscribed %s %s", ch, reason) },
		OnDisconnected: func(e client.DisconnectEvent) {
			r.add("disconnected %d reconnect=%t", e.Code, e.Reconnect)
		},
	}
}

// expect waits for the next len(want) events and compares them with want.
func (r *recorder) expect(t testing.TB, want ...string) {
	t.Helper()
	got := make([]string, 0, len(want))
	for range want {
		select {
		case ev := <-r.events:
			got = append(got, ev)
		case <-time.After(within):
			t.Fatalf("events (-want +got):\n%s", cmp.Diff(want, got))
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("events (-want +got):\n%s", diff)
	}
}
