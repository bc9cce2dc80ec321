package hooks

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/wsgateway/wsgateway/service/protocol"
)

func TestCallAnswers(t *testing.T) {
	tests := []struct {
		name, hook, mode, body string
		want                   Answer
		result                 string
	}{
		{"empty result", HookPublish, "", `{"result":{}}`, Answer{Result: &Result{}}, "ok"},
		{"connect result, mode hook", HookConnect, "hook",
			`{"result":{"user":"bob","subscribe":["chat:*"],"publish":[],"expire_at":1900000000,"meta":{ "a" : 1 },"data":{"hello":"bob"}}}`,
			Answer{Result: &Result{User: "bob", Subscribe: []string{"chat:*"}, Publish: []string{}, ExpireAt: 1900000000,
				Meta: json.RawMessage(`{"a":1}`), Data: json.RawMessage(`{"hello":"bob"}`)}}, "ok"},
		{"connect result keeps the token's patterns", HookConnect, "token_then_hook",
			`{"result":{"subscribe":null,"meta":null}}`, Answer{Result: &Result{}}, "ok"},
		{"subscribe data", HookSubscribe, "", `{"result":{"data":[1,2]}}`, Answer{Result: &Result{Data: json.RawMessage(`[1,2]`)}}, "ok"},
		{"publish data replacement", HookPublish, "", `{"result":{"data":{"text":"***"}}}`,
			Answer{Result: &Result{Data: json.RawMessage(`{"text":"***"}`)}}, "ok"},
		{"rpc result", HookRPC, "", `{"result":{"data":"done"}}`, Answer{Result: &Result{Data: json.RawMessage(`"done"`)}}, "ok"},
		{"contract error code", HookSubscribe, "", `{"error":{"code":"permission_denied","message":"members only"}}`,
			Answer{Error: &protocol.Error{Code: "permission_denied", Message: "members only"}}, "error"},
		{"app error code", HookPublish, "", `{"error":{"code":"app_moderated","message":"be nice"}}`,
			Answer{Error: &protocol.Error{Code: "app_moderated", Message: "be nice"}}, "error"},
		{"error code of 64 bytes", HookRPC, "", `{"error":{"code":"` + strings.Repeat("a", 64) + `","message":""}}`,
			Answer{Error: &protocol.Error{Code: strings.Repeat("a", 64)}}, "error"},
		{"disconnect, reconnect", HookConnect, "hook", `{"disconnect":{"code":4100,"reason":"moved"}}`,
			Answer{Disconnect: &protocol.Disconnect{Code: 4100, Reason: "moved"}}, "disconnect"},
		{"disconnect, terminal", HookPublish, "", `{"disconnect":{"code":4999,"reason":"` + strings.Repeat("é", 60) + `"}}`,
			Answer{Disconnect: &protocol.Disconnect{Code: 4999, Reason: strings.Repeat("é", 60)}}, "disconnect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newBackend(t, answer(tt.body))
			mode := tt.mode
			if mode == "" {
				mode = "token_then_hook"
			}
			f := newFixture(t, b.URL, allHooksConfig("reject", mode), Deps{})
			got := f.route(tt.hook).Call(bg, request(tt.hook))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("answer (-want +got):\n%s", diff)
			}
			if c := f.count(t, tt.hook, tt.result); c != 1 {
				t.Errorf("wsgateway_hook_requests_total{hook=%q,result=%q} = %v, want 1", tt.hook, tt.result, c)
			}
			if s := b.seen(); len(s) != 1 || s[0].Path != "/"+tt.hook {
				t.Errorf("backend saw %+v, want one POST to /%s", s, tt.hook)
			}
		})
	}
}

// closedURL is the URL of a port that was just listening and is now closed.
func closedURL(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	l.Close()
	return url
}

func TestCallFailures(t *testing.T) {
	slow := func(w http.ResponseWriter, r *http.Request) {
		select { // longer than the 500ms timeout, but let the server shut down
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		answer(`{"result":{}}`)(w, r)
	}
	status := func(code int) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(code); fmt.Fprint(w, `{"result":{}}`) }
	}
	huge := `{"result":{"data":"` + strings.Repeat("x", 2<<20) + `"}}`
	tests := []struct {
		name    string
		hook    string
		handler http.HandlerFunc // nil: the endpoint is down
	}{
		{"down", HookPublish, nil},
		{"slow", HookRPC, slow},
		{"500", HookSubscribe, status(500)},
		{"201", HookPublish, status(201)},
		{"redirect", HookPublish, func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/elsewhere", http.StatusFound) }},
		{"garbage", HookConnect, answer(`<html>oops</html>`)},
		{"empty body", HookConnect, answer(``)},
		{"2 MiB body", HookRPC, answer(huge)},
		{"trailing data", HookPublish, answer(`{"result":{}} {}`)},
		{"no verdict", HookPublish, answer(`{}`)},
		{"null result", HookPublish, answer(`{"result":null}`)},
		{"two verdicts", HookPublish, answer(`{"result":{},"error":{"code":"x","message":""}}`)},
		{"unknown member", HookPublish, answer(`{"result":{},"extra":1}`)},
		{"wrong-case member", HookPublish, answer(`{"Result":{}}`)},
		{"duplicate member", HookPublish, answer(`{"result":{},"result":{}}`)},
		{"unknown result field", HookConnect, answer(`{"result":{"subscrbie":["a"]}}`)},
		{"connect field in a publish answer", HookPublish, answer(`{"result":{"subscribe":["a"]}}`)},
		{"user in mode token_then_hook", HookConnect, answer(`{"result":{"user":"mallory"}}`)},
		{"patterns of the wrong type", HookConnect, answer(`{"result":{"subscribe":"chat:*"}}`)},
		{"negative expire_at", HookConnect, answer(`{"result":{"expire_at":-1}}`)},
		{"bad error code", HookSubscribe, answer(`{"error":{"code":"Bad-Code","message":""}}`)},
		{"error code too long", HookSubscribe, answer(`{"error":{"code":"` + strings.Repeat("a", 65) + `","message":""}}`)},
		{"error code starting with a digit", HookSubscribe, answer(`{"error":{"code":"1x","message":""}}`)},
		{"disconnect code below 4100", HookPublish, answer(`{"disconnect":{"code":4099,"reason":""}}`)},
		{"disconnect code 1000", HookPublish, answer(`{"disconnect":{"code":1000,"reason":""}}`)},
		{"disconnect code above 4999", HookPublish, answer(`{"disconnect":{"code":5000,"reason":""}}`)},
		{"disconnect reason over 120 bytes", HookPublish, answer(`{"disconnect":{"code":4500,"reason":"` + strings.Repeat("r", 121) + `"}}`)},
		{"invalid UTF-8", HookRPC, answer("{\"result\":{\"data\":\"\xff\"}}")},
	}
	for _, tt := range tests {
		for _, onError := range []string{"reject", "allow"} {
			t.Run(tt.name+"/"+onError, func(t *testing.T) {
				url := closedURL(t)
				if tt.handler != nil {
					url = newBackend(t, tt.handler).URL
				}
				f := newFixture(t, url, allHooksConfig(onError, "token_then_hook"), Deps{})
				got := f.route(tt.hook).Call(bg, request(tt.hook))
				want := Answer{Failed: true, Error: protocol.Errorf(protocol.CodeUnavailable, "the %s hook is unavailable", tt.hook)}
				if onError == "allow" {
					want = Answer{Failed: true, Result: &Result{}}
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("answer (-want +got):\n%s", diff)
				}
				if c := f.count(t, tt.hook, "failed"); c != 1 {
					t.Errorf("wsgateway_hook_requests_total{hook=%q,result=\"failed\"} = %v, want 1", tt.hook, c)
				}
			})
		}
	}
}

// The 1 MiB bound is exact: a body of 1 MiB is read, one byte more fails.
func TestAnswerSizeBound(t *testing.T) {
	body := func(size int) string {
		const verdict = `{"result":{}}`
		return verdict + strings.Repeat(" ", size-len(verdict))
	}
	for _, tc := range []struct {
		size   int
		failed bool
	}{{maxAnswer, false}, {maxAnswer + 1, true}} {
		b := newBackend(t, answer(body(tc.size)))
		f := newFixture(t, b.URL, allHooksConfig("reject", "token_then_hook"), Deps{})
		if a := f.route(HookRPC).Call(bg, request(HookRPC)); a.Failed != tc.failed {
			t.Errorf("answer of %d bytes: %+v, want failed=%v", tc.size, a, tc.failed)
		}
	}
}
