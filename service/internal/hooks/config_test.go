package hooks

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func dur(d time.Duration) *time.Duration { return &d }

func TestLoadContractExample(t *testing.T) {
	cfg, err := Load("testdata/contract.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := &Config{
		Endpoints: map[string]*Endpoint{"app": {URL: "http://chat.app.svc:8080/wsgateway", Timeout: dur(time.Second)}},
		Connect: &ConnectHook{
			HookConfig: HookConfig{Endpoint: "app", Timeout: dur(time.Second), OnError: Reject},
			Mode:       ModeTokenThenHook, ForwardHeaders: []string{"Cookie"},
		},
		Namespaces: map[string]*Namespace{
			"chat": {
				Subscribe: &HookConfig{Endpoint: "app", Timeout: dur(time.Second), OnError: Reject},
				Publish:   &HookConfig{Endpoint: "app", Timeout: dur(time.Second), OnError: Reject},
			},
			"game": {Publish: &HookConfig{Endpoint: "app", Timeout: dur(300 * time.Millisecond), OnError: Allow}},
		},
		RPC: map[string]*HookConfig{"billing": {Endpoint: "app", Timeout: dur(2 * time.Second), OnError: Reject}},
	}
	if diff := cmp.Diff(want, cfg); diff != "" {
		t.Errorf("config (-want +got):\n%s", diff)
	}
}

func TestLoadDefaults(t *testing.T) {
	cfg := loadString(t, `
endpoints:
  a: {url: "https://a.example/hooks/"}
  b: {url: "http://b:80", timeout: 5s}
connect: {endpoint: b, forward_headers: [cookie, x-session-ID]}
namespaces:
  "x.y": {subscribe: {endpoint: a}}
rpc:
  svc: {endpoint: b}
`)
	if got := cfg.Endpoints["a"]; got.URL != "https://a.example/hooks" || *got.Timeout != DefaultTimeout {
		t.Errorf("endpoint a = %s %s, want the URL without its trailing '/' and the default timeout", got.URL, *got.Timeout)
	}
	c := cfg.Connect
	if c.Mode != ModeTokenThenHook || c.OnError != Reject || *c.Timeout != 5*time.Second {
		t.Errorf("connect = mode %q on_error %q timeout %s, want token_then_hook, reject and the endpoint's 5s", c.Mode, c.OnError, *c.Timeout)
	}
	if diff := cmp.Diff([]string{"Cookie", "X-Session-Id"}, c.ForwardHeaders); diff != "" {
		t.Errorf("forward_headers are canonical (-want +got):\n%s", diff)
	}
	if got := cfg.Namespaces["x.y"].Subscribe; got.OnError != Reject || *got.Timeout != time.Second {
		t.Errorf("subscribe = %+v", got)
	}
	if got := cfg.RPC["svc"]; *got.Timeout != 5*time.Second {
		t.Errorf("rpc timeout %s, want the endpoint's 5s", *got.Timeout)
	}
}

func TestLoadErrors(t *testing.T) {
	const ep = "endpoints:\n  app: {url: http://app:8080}\n"
	tests := []struct {
		name, yaml, want string
	}{
		{"empty file", "", "the file is empty"},
		{"not YAML", "endpoints: [", "yaml:"},
		{"two documents", ep + "---\n" + ep, "more than one YAML document"},
		{"unknown top-level key", ep + "hooks: {}\n", "field hooks not found"},
		{"wrong-case key", "Endpoints:\n  app: {url: http://a}\n", "field Endpoints not found"},
		{"wrong-case nested key", "endpoints:\n  app: {URL: http://a}\n", "field URL not found"},
		{"duplicate key", "endpoints:\n  app: {url: http://a}\n  app: {url: http://b}\n", "already defined"},
		{"no endpoints", "connect: {endpoint: app}\n", "endpoints: at least one endpoint is required"},
		{"endpoint without url", "endpoints:\n  app: {timeout: 1s}\n", "endpoints.app.url: is required"},
		{"null endpoint", "endpoints:\n  app:\n", "endpoints.app.url: is required"},
		{"bad endpoint name", "endpoints:\n  \"a b\": {url: http://a}\n", `endpoints.a b: "a b" is not an endpoint name`},
		{"url scheme", "endpoints:\n  app: {url: ftp://a/x}\n", `endpoints.app.url: "ftp://a/x": the scheme must be http or https`},
		{"url without scheme", "endpoints:\n  app: {url: app:8080}\n", "endpoints.app.url:"},
		{"url without host", "endpoints:\n  app: {url: \"http:///x\"}\n", `endpoints.app.url: "http:///x" has no host`},
		{"url with query", "endpoints:\n  app: {url: \"http://a/x?k=1\"}\n", "endpoints.app.url: \"http://a/x?k=1\": no user info, query or fragment"},
		{"url with user", "endpoints:\n  app: {url: \"http://u:p@a/x\"}\n", "no user info"},
		{"url unparsable", "endpoints:\n  app: {url: \"http://a b/%zz\"}\n", `endpoints.app.url: "http://a b/%zz" is not a URL`},
		{"timeout zero", "endpoints:\n  app: {url: http://a, timeout: 0s}\n", "endpoints.app.timeout: 0s is out of range"},
		{"timeout negative", "endpoints:\n  app: {url: http://a, timeout: -1s}\n", "endpoints.app.timeout: -1s is out of range"},
		{"timeout too long", "endpoints:\n  app: {url: http://a, timeout: 31s}\n", "endpoints.app.timeout: 31s is out of range"},
		{"timeout without unit", "endpoints:\n  app: {url: http://a, timeout: 5}\n", "cannot unmarshal"},
		{"hook timeout too long", ep + "rpc:\n  b: {endpoint: app, timeout: 1m}\n", "rpc.b.timeout: 1m0s is out of range"},
		{"connect unknown endpoint", ep + "connect: {endpoint: ap}\n", `connect.endpoint: "ap" is not a defined endpoint`},
		{"connect without endpoint", ep + "connect: {mode: hook}\n", "connect.endpoint: is required"},
		{"connect bad mode", ep + "connect: {endpoint: app, mode: jwt}\n", `connect.mode: "jwt" is not token_then_hook or hook`},
		{"connect bad on_error", ep + "connect: {endpoint: app, on_error: Reject}\n", `connect.on_error: "Reject" is not reject or allow`},
		{"connect bad header", ep + "connect: {endpoint: app, forward_headers: [\"X Y\"]}\n", `connect.forward_headers[0]: "X Y" is not a header name`},
		{"connect empty header", ep + "connect: {endpoint: app, forward_headers: [\"\"]}\n", `connect.forward_headers[0]: "" is not a header name`},
		{"connect header twice", ep + "connect: {endpoint: app, forward_headers: [Cookie, cookie]}\n", `connect.forward_headers[1]: "cookie" is listed twice`},
		{"publish unknown endpoint", ep + "namespaces:\n  chat:\n    publish: {endpoint: ap}\n", `namespaces.chat.publish.endpoint: "ap" is not a defined endpoint`},
		{"subscribe bad on_error", ep + "namespaces:\n  chat:\n    subscribe: {endpoint: app, on_error: ignore}\n", `namespaces.chat.subscribe.on_error: "ignore" is not reject or allow`},
		{"namespace with colon", ep + "namespaces:\n  \"chat:room\":\n    publish: {endpoint: app}\n", `namespaces.chat:room: "chat:room" is not a namespace`},
		{"namespace with space", ep + "namespaces:\n  \"a b\":\n    publish: {endpoint: app}\n", `"a b" is not a namespace`},
		{"namespace without hooks", ep + "namespaces:\n  chat: {}\n", "namespaces.chat: has neither subscribe nor publish"},
		{"namespace unknown hook", ep + "namespaces:\n  chat:\n    history: {endpoint: app}\n", "field history not found"},
		{"rpc namespace with colon", ep + "rpc:\n  \"a:b\": {endpoint: app}\n", `rpc.a:b: "a:b" is not a namespace`},
		{"rpc unknown endpoint", ep + "rpc:\n  billing: {endpoint: other}\n", `rpc.billing.endpoint: "other" is not a defined endpoint`},
		{"rpc null", ep + "rpc:\n  billing:\n", "rpc.billing: endpoint is required"},
		{"rpc unknown key", ep + "rpc:\n  billing: {endpoint: app, mode: hook}\n", "field mode not found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, tt.yaml)
			_, err := Load(path)
			if err == nil {
				t.Fatalf("Load accepted:\n%s", tt.yaml)
			}
			if prefix := "hooks config " + path + ": "; !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("error %q does not start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q does not contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	if err == nil || !strings.Contains(err.Error(), "none.yaml") {
		t.Errorf("Load of a missing file: %v, want an error naming it", err)
	}
}

func writeFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hooks.yaml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func loadString(t testing.TB, content string) *Config {
	t.Helper()
	cfg, err := Load(writeFile(t, content))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}
