package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"

	"github.com/google/go-cmp/cmp"
	"github.com/gorilla/websocket"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
	"github.com/wsgateway/wsgateway/service/internal/auth"
	"github.com/wsgateway/wsgateway/service/protocol"
)

// testSecret signs the tokens of nodes started with withAuth.
const testSecret = "test-secret-0123456789abcdef"

// gw is one gateway node, run by gatewaytest.
type gw = gatewaytest.Node

// startNode runs a node in process (through run's gateway.Run, exactly as
// main does) on 127.0.0.1 ports chosen by the kernel, with args added to
// the harness's own. It stops (drains with zero delay) at the end of the
// test.
func startNode(t testing.TB, args ...string) *gw {
	t.Helper()
	return startNodeEnv(t, nil, args...)
}

// startNodeEnv is startNode with the environment the node reads (WSG_*,
// OTEL_*), as "KEY=value" entries.
func startNodeEnv(t testing.TB, env []string, args ...string) *gw {
	t.Helper()
	base := []string{"--node-id", "test-node", "--drain-delay", "0s", "--drain-window", "0s", "--log-level", "debug"}
	return gatewaytest.Start(t, gatewaytest.Options{InProcess: true, Env: env, Args: append(base, args...)})
}

// slowUnderShort skips t under -short: it waits out real timers of several
// seconds (named by why), which the fast loop leaves to the full run.
func slowUnderShort(t *testing.T, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: waits " + why)
	}
}

// startBinary runs the real binary in --dev with args: the tests of signals,
// exit codes and memory run the program as production does.
func startBinary(t testing.TB, args ...string) *gw {
	t.Helper()
	return gatewaytest.Start(t, gatewaytest.Options{Args: append([]string{"--dev"}, args...)})
}

// token signs a test token for user with the given permissions.
func token(t testing.TB, user string, ttl time.Duration, subscribe, publish []string) string {
	t.Helper()
	tok, err := auth.SignHS256([]byte(testSecret), auth.TokenSpec{User: user, Subscribe: subscribe, Publish: publish, TTL: ttl})
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// wsConn is a raw protocol client: it sends commands and reads every JSON
// object the server sends, one at a time, across batched frames.
type wsConn struct {
	t       testing.TB
	c       *websocket.Conn
	pending [][]byte
	nextID  uint64
}

// dial opens a WebSocket to g with optional headers; it fails the test on error.
func dial(t testing.TB, g *gw, header http.Header) *wsConn {
	t.Helper()
	c, resp, err := dialRaw(g, header)
	if err != nil {
		t.Fatalf("dial: %v (status %v)", err, status(resp))
	}
	w := &wsConn{t: t, c: c}
	t.Cleanup(func() { c.Close() })
	return w
}

func dialRaw(g *gw, header http.Header) (*websocket.Conn, *http.Response, error) {
	d := websocket.Dialer{Subprotocols: []string{"wsgateway.v1"}, HandshakeTimeout: 5 * time.Second}
	return d.Dial(g.URL(), header)
}

func status(r *http.Response) int {
	if r == nil {
		return 0
	}
	return r.StatusCode
}

// connected dials and sends connect with tok (empty: none); it fails unless
// the reply has a result.
func connected(t testing.TB, g *gw, tok string) *wsConn {
	t.Helper()
	w, _ := connectedAs(t, g, tok)
	return w
}

// send writes one text frame with the given raw content.
func (w *wsConn) send(frame string) {
	w.t.Helper()
	if err := w.c.WriteMessage(websocket.TextMessage, []byte(frame)); err != nil {
		w.t.Fatalf("write: %v", err)
	}
}

// call sends cmd with a fresh id and returns the reply with that id,
// keeping pushes that arrive before it for next().
func (w *wsConn) call(cmd protocol.Command) protocol.Message {
	w.t.Helper()
	w.nextID++
	cmd.ID = w.nextID
	b, err := json.Marshal(cmd)
	if err != nil {
		w.t.Fatalf("encode %+v: %v", cmd, err)
	}
	w.send(string(b))
	return w.reply(w.nextID)
}

// reply reads until the reply with id arrives; pushes read meanwhile are
// kept in order for next().
func (w *wsConn) reply(id uint64) protocol.Message {
	w.t.Helper()
	var skipped [][]byte
	defer func() { w.pending = append(skipped, w.pending...) }()
	for {
		raw := w.nextRaw(5 * time.Second)
		m := decode(w.t, raw)
		if m.ID == id {
			return m
		}
		skipped = append(skipped, raw)
	}
}

// next returns the next line from the server.
func (w *wsConn) next() protocol.Message {
	w.t.Helper()
	return decode(w.t, w.nextRaw(5*time.Second))
}

func (w *wsConn) nextRaw(timeout time.Duration) []byte {
	w.t.Helper()
	raw, err := w.read(timeout)
	if err != nil {
		w.t.Fatalf("read: %v", err)
	}
	return raw
}

// nextOrClosed returns the next line, or the close code (and a zero
// Message) when the connection closed instead.
func (w *wsConn) nextOrClosed(timeout time.Duration) (protocol.Message, int) {
	w.t.Helper()
	raw, err := w.read(timeout)
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return protocol.Message{}, ce.Code
	case err != nil:
		w.t.Fatalf("read: %v", err)
	}
	return decode(w.t, raw), 0
}

// read returns the next line the server sent, reading a frame when none
// is pending.
func (w *wsConn) read(timeout time.Duration) ([]byte, error) {
	w.t.Helper()
	for len(w.pending) == 0 {
		_ = w.c.SetReadDeadline(time.Now().Add(timeout))
		mt, frame, err := w.c.ReadMessage()
		if err != nil {
			return nil, err
		}
		if mt != websocket.TextMessage {
			w.t.Fatalf("frame type %d, want text", mt)
		}
		w.pending = append(w.pending, bytes.Split(frame, []byte("\n"))...)
	}
	raw := w.pending[0]
	w.pending = w.pending[1:]
	return raw, nil
}

// result returns the reply's raw result, failing the test on an error
// reply; resultOf decodes it.
func (w *wsConn) result(m protocol.Message) json.RawMessage {
	w.t.Helper()
	if m.Error != nil || m.Result == nil {
		w.t.Fatalf("want a result, got %s", show(m))
	}
	return m.Result
}

// resultOf returns the reply's result as T (see typed), failing the test on
// an error reply.
func resultOf[T any](t testing.TB, m protocol.Message) T {
	t.Helper()
	if m.Error != nil || m.Result == nil {
		t.Fatalf("want a result, got %s", show(m))
	}
	return typed[T](t, m.Result)
}

// errCode returns the reply's error code ("" when it has none).
func errCode(m protocol.Message) string {
	if m.Error == nil {
		return ""
	}
	return m.Error.Code
}

// show prints a message for a failure, as JSON rather than Go's %v of raw
// bytes.
func show(m protocol.Message) string {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Sprintf("%+v", m)
	}
	return string(b)
}

// closed reads until the connection closes and returns the close code
// (1006 when it ended without a close frame). Data read meanwhile is dropped.
func (w *wsConn) closed(timeout time.Duration) int {
	w.t.Helper()
	code := w.closedNoFail(timeout)
	if code == -1 {
		w.t.Fatalf("connection still open after %v", timeout)
	}
	return code
}

// decodeStrict decodes b into v under protocol.UnmarshalStrict's rules
// (exact names, no duplicates, valid UTF-8) and, unlike the server, also
// refuses a field v does not know: a test must notice what the server adds.
// It never fails the test, so helpers off the test goroutine may use it.
func decodeStrict(b []byte, v any) error {
	return jsonv2.Unmarshal(b, v, jsonv2.RejectUnknownMembers(true))
}

// decode reads one line the server sent; a field Message does not know
// fails the test, so nothing the server adds goes unnoticed.
func decode(t testing.TB, raw []byte) protocol.Message {
	t.Helper()
	var m protocol.Message
	if err := decodeStrict(raw, &m); err != nil {
		t.Fatalf("server sent %q, no protocol.Message: %v", raw, err)
	}
	return m
}

// apiCall calls the backend API of g; key "" sends no Authorization. It
// returns the status and the body, checked to be JSON: decode it with typed,
// or compare it whole where the exact answer matters.
func apiCall(t testing.TB, g *gw, method, path, key, body string) (int, json.RawMessage) {
	t.Helper()
	header := http.Header{}
	if key != "" {
		header.Set("Authorization", "apikey "+key)
	}
	code, _, m := apiRequest(t, g, method, path, header, body)
	return code, m
}

// httpGet fetches a URL and returns status and body.
func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// closedNoFail is closed for use off the test goroutine: it never calls
// Fatal and returns -1 when the connection is still open after timeout.
func (w *wsConn) closedNoFail(timeout time.Duration) int {
	_ = w.c.SetReadDeadline(time.Now().Add(timeout))
	for {
		_, _, err := w.c.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code
		}
		if strings.Contains(err.Error(), "timeout") {
			return -1
		}
		return websocket.CloseAbnormalClosure
	}
}

// connectedAs is connected that also returns the connect result (for the
// connection's client id).
func connectedAs(t testing.TB, g *gw, tok string) (*wsConn, protocol.ConnectResult) {
	t.Helper()
	w := dial(t, g, nil)
	return w, resultOf[protocol.ConnectResult](t, w.call(protocol.Command{Op: protocol.OpConnect, Token: tok}))
}

// quiet fails unless nothing is on its way to the client: the reply to a
// ping sent now must be the very next object received.
func (w *wsConn) quiet() {
	w.t.Helper()
	w.nextID++
	w.send(fmt.Sprintf(`{"id":%d,"op":"ping"}`, w.nextID))
	if m := w.next(); m.ID != w.nextID {
		w.t.Fatalf("want only the ping reply, got %s first", show(m))
	}
}

// apiRequest calls the backend API of g with the given headers and returns
// the status, the response headers and the body, checked to be JSON.
func apiRequest(t testing.TB, g *gw, method, path string, header http.Header, body string) (int, http.Header, json.RawMessage) {
	t.Helper()
	req, err := http.NewRequest(method, "http://"+g.API+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if !json.Valid(b) {
		t.Fatalf("%s %s: status %d, body %q is not JSON", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode, resp.Header, b
}

// apiPublish publishes data (raw JSON) on channel through the API and
// returns the stream position it took; anything but 200 fails the test.
func apiPublish(t testing.TB, g *gw, key, channel, data string) protocol.Position {
	t.Helper()
	body := fmt.Sprintf(`{"channel":%q,"data":%s}`, channel, data)
	code, res := apiCall(t, g, "POST", "/api/v1/publish", key, body)
	if code != http.StatusOK {
		t.Fatalf("API publish %s: %d %s", body, code, res)
	}
	return typed[protocol.Position](t, res)
}

// within polls cond every 10 ms until it holds, failing the test with
// what() after timeout. It is the package's one wait: test goroutine only.
func within(t testing.TB, timeout time.Duration, cond func() bool, what func() string) {
	t.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("after %v: %s", timeout, what())
		}
	}
}

// metric reads one series of g's metrics: key is "name" or "name
// label=value ...", without the wsgateway_ prefix. A series g does not
// expose reads -1, which no count or gauge equals.
func metric(t testing.TB, g *gw, key string) float64 {
	t.Helper()
	fields := strings.Fields(key)
	v, ok := g.Metrics(t).Value("wsgateway_"+fields[0], fields[1:]...)
	if !ok {
		return -1
	}
	return v
}

// wantMetrics waits until every series in want (keys as for metric) has its
// value.
func wantMetrics(t testing.TB, g *gw, want map[string]float64) {
	t.Helper()
	var diff string
	within(t, 10*time.Second, func() bool {
		got := map[string]float64{}
		for key := range want {
			got[key] = metric(t, g, key)
		}
		diff = cmp.Diff(want, got)
		return diff == ""
	}, func() string { return "metrics (-want +got, -1: absent):\n" + diff })
}

// typed decodes a JSON object (a result, an API body) into T, a type of
// service/protocol, no less strictly than a look at the whole object: a
// field T does not know, or the absence (or null) of one it always carries
// (no omitempty), fails the test.
func typed[T any](t testing.TB, b []byte) T {
	t.Helper()
	var v T
	if err := decodeStrict(b, &v); err != nil {
		t.Fatalf("%s is no %T: %v", b, v, err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatalf("%s is no JSON object: %v", b, err)
	}
	for f := range reflect.TypeFor[T]().Fields() {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		// null stands for absent, except where any JSON value is the content.
		isNull := string(fields[name]) == "null" && f.Type != reflect.TypeFor[json.RawMessage]()
		if _, ok := fields[name]; (!ok || isNull) && opts != "omitempty" {
			t.Fatalf("%s lacks %q", b, name)
		}
	}
	// protocol.Publication reads its wire form leniently (clients may be
	// older than the server): hold a result's publications to exactly it.
	if raw, ok := fields["publications"]; ok && reflect.TypeFor[T]() != reflect.TypeFor[wirePublication]() {
		var pubs []json.RawMessage
		if err := json.Unmarshal(raw, &pubs); err != nil {
			t.Fatalf("%s: publications are no list: %v", b, err)
		}
		for _, p := range pubs {
			typed[wirePublication](t, p)
		}
	}
	return v
}

// wirePublication is a publication within a result, exactly as
// protocol.AppendPublication writes it, for typed's check.
type wirePublication struct {
	Channel string          `json:"channel"`
	Offset  uint64          `json:"offset"`
	Epoch   string          `json:"epoch"`
	Data    json.RawMessage `json:"data"`
	User    string          `json:"user,omitempty"`
}

// nodesAnswer is the body of GET /api/v1/nodes. The server's own type is
// internal to it; this one mirrors it, and typed's strict decode fails on any
// field the two do not share.
type nodesAnswer struct {
	Nodes    []protocol.NodeInfo `json:"nodes"`
	Degraded bool                `json:"degraded"`
}

// apiError is the body of an API answer that is not 2xx.
type apiError struct {
	Error protocol.Error `json:"error"`
}

// apiErrCode returns the error code of an API answer's body ("" when it
// has none, as a 2xx body). It never fails the test, so that helpers off
// the test goroutine may use it.
func apiErrCode(body []byte) string {
	var e struct {
		Error *protocol.Error `json:"error"`
	}
	if json.Unmarshal(body, &e) != nil || e.Error == nil {
		return ""
	}
	return e.Error.Code
}
