package hooks

import (
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

// series lists the hook series a registry exposes as "name{labels} value".
func series(t *testing.T, reg *prometheus.Registry) []string {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := m.GetCounter().GetValue() + m.GetGauge().GetValue() + float64(m.GetHistogram().GetSampleCount())
			out = append(out, mf.GetName()+"{"+strings.Join(labels, ",")+"} "+zeroOr(v))
		}
	}
	sort.Strings(out)
	return out
}

func zeroOr(v float64) string {
	if v == 0 {
		return "0"
	}
	return "nonzero"
}

func wantZeroSeries(endpoints ...string) []string {
	var want []string
	for _, h := range []string{"connect", "subscribe", "publish", "rpc"} {
		want = append(want, "wsgateway_hook_duration_seconds{hook="+h+"} 0")
		for _, r := range []string{"ok", "error", "disconnect", "failed", "breaker_open"} {
			want = append(want, "wsgateway_hook_requests_total{hook="+h+",result="+r+"} 0")
		}
	}
	for _, e := range endpoints {
		want = append(want, "wsgateway_hook_breaker_state{endpoint="+e+"} 0")
	}
	sort.Strings(want)
	return want
}

func TestMetricsAtZeroWithoutConfig(t *testing.T) {
	reg := prometheus.NewRegistry()
	h, err := New(nil, Deps{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantZeroSeries(), series(t, reg)); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	if h.Connect() != nil || h.Subscribe("chat:a") != nil || h.Publish("chat:a") != nil || h.RPC("billing:x") != nil {
		t.Error("a Hooks without config has routes")
	}
}

func TestMetricsAtZeroWithConfig(t *testing.T) {
	f := newFixture(t, "http://127.0.0.1:1", `
endpoints:
  app: {url: "$URL"}
  billing: {url: "$URL/b"}
rpc:
  billing: {endpoint: billing}
`, Deps{})
	if diff := cmp.Diff(wantZeroSeries("app", "billing"), series(t, f.reg)); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
}

func TestRoutes(t *testing.T) {
	var nilHooks *Hooks
	if nilHooks.Connect() != nil || nilHooks.Subscribe("a") != nil || nilHooks.Publish("a") != nil || nilHooks.RPC("a:b") != nil {
		t.Error("a nil *Hooks has routes")
	}
	var nilRoute *Route
	if a := nilRoute.Call(bg, Request{}); a.Result == nil || a.Failed {
		t.Errorf("Call on a nil route = %+v, want an empty result", a)
	}
	f := newFixture(t, "http://127.0.0.1:1", allHooksConfig("reject", "hook"), Deps{})
	checks := []struct {
		name string
		got  *Route
		want bool
	}{
		{"subscribe chat:room", f.h.Subscribe("chat:room"), true},
		{"subscribe chat (no colon)", f.h.Subscribe("chat"), true},
		{"subscribe news:x", f.h.Subscribe("news:x"), false},
		{"subscribe chatter:x", f.h.Subscribe("chatter:x"), false},
		{"publish chat:a:b", f.h.Publish("chat:a:b"), true},
		{"rpc billing:charge", f.h.RPC("billing:charge"), true},
		{"rpc billing", f.h.RPC("billing"), true},
		{"rpc other:charge", f.h.RPC("other:charge"), false},
	}
	for _, c := range checks {
		if (c.got != nil) != c.want {
			t.Errorf("%s: route %v, want %v", c.name, c.got != nil, c.want)
		}
	}
	cr := f.h.Connect()
	if cr == nil || cr.Mode != ModeHook || !cmp.Equal(cr.ForwardHeaders, []string{"Cookie"}) {
		t.Errorf("connect route %+v", cr)
	}
}

func TestNewValidatesAHandMadeConfig(t *testing.T) {
	cfg := &Config{
		Endpoints:  map[string]*Endpoint{"app": {URL: "http://a"}},
		Namespaces: map[string]*Namespace{"chat": {Publish: &HookConfig{Endpoint: "ap"}}},
	}
	if _, err := New(cfg, Deps{}); err == nil || !strings.Contains(err.Error(), `namespaces.chat.publish.endpoint: "ap" is not a defined endpoint`) {
		t.Errorf("New = %v, want the validation error", err)
	}
	cfg.Namespaces["chat"].Publish.Endpoint = "app"
	h, err := New(cfg, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	if r := h.Publish("chat:x"); r == nil || r.timeout != DefaultTimeout || r.allow {
		t.Errorf("route %+v, want the defaults filled in", r)
	}
}
