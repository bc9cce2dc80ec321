package grafana

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"
)

// promAPI queries a Prometheus over its HTTP API.
type promAPI struct {
	base   string
	client *http.Client
}

// promResponse is the envelope of every Prometheus API answer.
type promResponse struct {
	Status string          `json:"status"`
	Error  string          `json:"error"`
	Data   json.RawMessage `json:"data"`
}

// query runs an instant query and returns the number of series it yields;
// an expression Prometheus cannot parse or evaluate is an error.
func (p promAPI) query(expr string) (int, error) {
	var data struct {
		Result []json.RawMessage `json:"result"`
	}
	if err := p.get("/api/v1/query?"+url.Values{"query": {expr}}.Encode(), &data); err != nil {
		return 0, err
	}
	return len(data.Result), nil
}

// scalar runs an instant query that must yield exactly one series and
// returns its value.
func (p promAPI) scalar(expr string) (float64, error) {
	var data struct {
		Result []struct {
			Value [2]any `json:"value"`
		} `json:"result"`
	}
	if err := p.get("/api/v1/query?"+url.Values{"query": {expr}}.Encode(), &data); err != nil {
		return 0, err
	}
	if len(data.Result) != 1 {
		return 0, fmt.Errorf("%d series, want 1", len(data.Result))
	}
	s, _ := data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

func (p promAPI) get(path string, data any) error {
	resp, err := p.client.Get(p.base + path)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	var r promResponse
	if err := json.Unmarshal(b, &r); err != nil {
		return fmt.Errorf("%s: %s: %q", path, resp.Status, b)
	}
	if r.Status != "success" {
		return fmt.Errorf("status %s: %s", r.Status, r.Error)
	}
	return json.Unmarshal(r.Data, data)
}

// checkRulesHealthy: Prometheus loaded every rule and evaluates it without
// error.
func checkRulesHealthy(p promAPI, want int) error {
	var data struct {
		Groups []struct {
			Rules []struct {
				Name, Health, LastError string
			} `json:"rules"`
		} `json:"groups"`
	}
	if err := p.get("/api/v1/rules", &data); err != nil {
		return err
	}
	var errs []error
	n := 0
	for _, g := range data.Groups {
		for _, r := range g.Rules {
			n++
			if r.Health != "ok" {
				errs = append(errs, fmt.Errorf("rule %s: health %q %s", r.Name, r.Health, r.LastError))
			}
		}
	}
	if n != want {
		errs = append(errs, fmt.Errorf("Prometheus has %d rules, want %d", n, want))
	}
	return errors.Join(errs...)
}

// waitForScrapes waits until Prometheus has scraped every node minScrapes
// times, and the rules have been evaluated.
func waitForScrapes(t *testing.T, p promAPI, nodes int) {
	t.Helper()
	expr := fmt.Sprintf(`count_over_time(up{job="wsgateway"}[1m]) >= %d and up{job="wsgateway"} == 1`, minScrapes)
	deadline := time.Now().Add(scrapeWait)
	for {
		n, err := p.query(expr)
		if err == nil && n == nodes {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("Prometheus did not scrape %d nodes %d times within %v: %d ready, %v",
				nodes, minScrapes, scrapeWait, n, err)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
