package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/protocol"
)

// TestStrictJSON: commands and API bodies are read one way only (exact
// field names, no duplicate names, nothing after the object), so that the
// gateway and any other parser on the way agree on what was sent.
func TestStrictJSON(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	t.Run("socket", func(t *testing.T) {
		t.Parallel()
		w := connected(t, g, "")
		for _, line := range []string{
			`{"id":%d,"op":"publish","channel":"strict:a","channel":"strict:b","data":1}`,
			`{"id":%d,"op":"publish","channel":"strict:a","data":{"x":1,"x":2}}`,
			`{"id":%d,"op":"subscribe","Channel":"strict:a"}`,
			`{"id":%d,"Op":"ping"}`,
		} {
			w.nextID++
			w.send(fmt.Sprintf(line, w.nextID))
			if m := w.reply(w.nextID); errCode(m) != "bad_request" {
				t.Errorf("%s: reply %s, want bad_request", line, show(m))
			}
			w.result(w.call(protocol.Command{Op: protocol.OpPing})) // not three malformed frames in a row
		}
	})
	t.Run("API", func(t *testing.T) {
		t.Parallel()
		for _, body := range []string{
			`{"channel":"strict:a","data":1} trailing`,
			`{"channel":"strict:a","data":1}{"channel":"strict:b","data":2}`,
			`{"channel":"strict:a","channel":"strict:b","data":1}`,
			`{"channel":"strict:a","data":{"x":1,"x":2}}`,
			`{"Channel":"strict:a","data":1}`,
			`{"channel":"strict:a","Data":1}`,
		} {
			if code, res := apiCall(t, g, "POST", "/api/v1/publish", "", body); code != http.StatusBadRequest {
				t.Errorf("publish %s: %d %v, want 400", body, code, res)
			}
		}
	})
}

// TestLivePushAndHistoryAreByteIdentical: a publication's data is compacted
// once where it enters, so the live push, the history reply and the API's
// history carry exactly the same bytes for one offset, whatever whitespace
// and characters the publisher sent.
func TestLivePushAndHistoryAreByteIdentical(t *testing.T) {
	t.Parallel()
	g := startNode(t, "--dev")
	// Whitespace outside strings (a tab: a newline would end the command
	// line on the socket), and characters json.Marshal would escape.
	const data = "{ \"text\" : \"a  <b> & \\u00e9 \u2028\" ,\t \"n\" : [ 1.50 , 2 ] }"
	const want = "{\"text\":\"a  <b> & \\u00e9 \u2028\",\"n\":[1.50,2]}"
	for _, via := range []string{"socket", "API"} {
		t.Run(via, func(t *testing.T) {
			t.Parallel()
			ch := "strict:" + strings.ToLower(via)
			sub := connected(t, g, "")
			sub.result(sub.call(protocol.Command{Op: protocol.OpSubscribe, Channel: ch}))
			if via == "API" {
				apiPublish(t, g, "", ch, data)
			} else {
				pub := connected(t, g, "")
				pub.nextID++
				pub.send(fmt.Sprintf(`{"id":%d,"op":"publish","channel":%q,"data":%s}`, pub.nextID, ch, data))
				pub.result(pub.reply(pub.nextID))
			}
			live := rawField(t, sub.nextRaw(5*time.Second), "data")
			fromSocket := socketHistoryData(t, sub, ch)
			fromAPI := apiHistoryData(t, g, ch)
			if live != fromSocket || live != fromAPI {
				t.Fatalf("data of offset 1:\nlive push     %s\nhistory       %s\nAPI history   %s", live, fromSocket, fromAPI)
			}
			if live != want {
				t.Fatalf("live push data %s, want %s (compacted, strings as sent)", live, want)
			}
		})
	}
}

// rawField returns the bytes of one field of a JSON object, as sent.
func rawField(t *testing.T, obj []byte, name string) string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(obj, &m); err != nil {
		t.Fatalf("%s: %v", obj, err)
	}
	return string(m[name])
}

// socketHistoryData asks for ch's history on w and returns the data bytes
// of its first publication.
func socketHistoryData(t *testing.T, w *wsConn, ch string) string {
	t.Helper()
	w.nextID++
	w.send(fmt.Sprintf(`{"id":%d,"op":"history","channel":%q}`, w.nextID, ch))
	for {
		raw := w.nextRaw(5 * time.Second)
		var reply struct {
			ID     uint64 `json:"id"`
			Result struct {
				Publications []map[string]json.RawMessage `json:"publications"`
			} `json:"result"`
		}
		if err := json.Unmarshal(raw, &reply); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		if reply.ID == w.nextID {
			if len(reply.Result.Publications) == 0 {
				t.Fatalf("history reply %s has no publication", raw)
			}
			return string(reply.Result.Publications[0]["data"])
		}
	}
}

// apiHistoryData is socketHistoryData through GET /api/v1/history.
func apiHistoryData(t *testing.T, g *gw, ch string) string {
	t.Helper()
	resp, err := http.Get("http://" + g.API + "/api/v1/history?channel=" + ch)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var res struct {
		Publications []map[string]json.RawMessage `json:"publications"`
	}
	if err := json.Unmarshal(body, &res); err != nil || len(res.Publications) == 0 {
		t.Fatalf("API history %d %s: %v", resp.StatusCode, body, err)
	}
	return string(res.Publications[0]["data"])
}
