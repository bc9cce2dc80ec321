package gatewaytest

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics is one scrape of a node's /metrics, by family name
// ("wsgateway_connections").
type Metrics map[string]*dto.MetricFamily

// metricsClient bounds every scrape, including those off the test goroutine.
var metricsClient = &http.Client{Timeout: 10 * time.Second}

// Metrics scrapes the node's /metrics, failing the test when it cannot.
func (n *Node) Metrics(t testing.TB) Metrics {
	t.Helper()
	m, err := n.ReadMetrics()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// ReadMetrics is Metrics for any goroutine: it returns the error instead.
func (n *Node) ReadMetrics() (Metrics, error) {
	resp, err := metricsClient.Get(n.AdminURL() + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return ParseMetrics(resp.Body)
}

// ParseMetrics parses the Prometheus text format.
func ParseMetrics(r io.Reader) (Metrics, error) {
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(r)
	if err != nil {
		return nil, fmt.Errorf("/metrics is not Prometheus text: %w", err)
	}
	return Metrics(fams), nil
}

// Value returns the value of family name's series whose labels are exactly
// the given "label=value" pairs, in the order exposed (none: the unlabelled
// series), and false when there is no such series. A counter's or gauge's
// value is its value; a histogram's or summary's is its sample count.
func (m Metrics) Value(name string, labels ...string) (float64, bool) {
	for _, s := range m[name].GetMetric() {
		var got []string
		for _, lp := range s.GetLabel() {
			got = append(got, lp.GetName()+"="+lp.GetValue())
		}
		if slices.Equal(got, labels) {
			return SampleValue(s), true
		}
	}
	return 0, false
}

// SampleValue is one series' value: a counter's or gauge's value, a
// histogram's or summary's sample count; -1 for an untyped series.
func SampleValue(s *dto.Metric) float64 {
	switch {
	case s.Counter != nil:
		return s.Counter.GetValue()
	case s.Gauge != nil:
		return s.Gauge.GetValue()
	case s.Histogram != nil:
		return float64(s.Histogram.GetSampleCount())
	case s.Summary != nil:
		return float64(s.Summary.GetSampleCount())
	}
	return -1
}
