package broker

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
)

func TestNewMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	NewMetrics(reg)
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]string{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				got[f.GetName()] = append(got[f.GetName()], l.GetName()+"="+l.GetValue())
			}
			if len(m.GetLabel()) == 0 {
				got[f.GetName()] = append(got[f.GetName()], "")
			}
		}
	}
	var ops []string
	for _, op := range metricOps {
		ops = append(ops, "op="+op)
	}
	want := map[string][]string{
		"wsgateway_redis_breaker_state":       {""},
		"wsgateway_redis_errors_total":        ops,
		"wsgateway_redis_op_duration_seconds": ops,
		"wsgateway_history_evictions_total":   {""},
		"wsgateway_broker_channels":           {""},
	}
	for name, series := range want {
		if diff := cmp.Diff(sorted(series), sorted(got[name])); diff != "" {
			t.Errorf("%s series (-want +got):\n%s", name, diff)
		}
	}
}

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	slices.Sort(out)
	return out
}
