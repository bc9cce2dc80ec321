package main

import (
	"bufio"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest"
)

// csvHeader is the first line of every NAME-nodes.csv.
const csvHeader = "unix_s,node,connections,subscriptions,draining,rss_bytes,goroutines,cpu_seconds\n"

var metricsClient = &http.Client{Timeout: time.Second}

// poll samples every node's /metrics into NAME-nodes.csv every `every`, in
// the background, for at most limit; the function it returns stops it and
// waits for the file to be complete. The admin addresses are read once:
// they never change, a restart included, and the goroutine touches no Node.
func (r *runner) poll(name string, every, limit time.Duration) (stop func()) {
	var admins [3]string
	for i, n := range r.nodes {
		admins[i] = n.Admin
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.Create(filepath.Join(r.cfg.results, name+"-nodes.csv"))
		if err != nil {
			r.log.Error("nodes csv", "err", err)
			return
		}
		defer f.Close()
		w := bufio.NewWriter(f)
		defer w.Flush()
		_, _ = w.WriteString(csvHeader)
		end := time.Now().Add(limit)
		for time.Now().Before(end) {
			for i, a := range admins {
				_, _ = w.WriteString(sample(nodeName(i), a))
			}
			select {
			case <-quit:
				return
			case <-time.After(every):
			}
		}
	}()
	return func() {
		close(quit)
		<-done
	}
}

// sample is one CSV line of node's metrics, with empty fields when the node
// does not answer.
func sample(node, admin string) string {
	t := strconv.FormatFloat(float64(time.Now().UnixMilli())/1000, 'f', 3, 64)
	m, err := readMetrics(admin)
	if err != nil {
		return fmt.Sprintf("%s,%s,,,,,,\n", t, node)
	}
	v := func(name string) float64 { x, _ := m.Value(name); return x }
	return fmt.Sprintf("%s,%s,%d,%d,%d,%.0f,%d,%s\n", t, node, int(v("wsgateway_connections")), int(v("wsgateway_subscriptions")),
		int(v("wsgateway_draining")), v("process_resident_memory_bytes"), int(v("go_goroutines")),
		strconv.FormatFloat(v("process_cpu_seconds_total"), 'g', -1, 64))
}

// readMetrics reads one node's /metrics, bounded by a second.
func readMetrics(admin string) (gatewaytest.Metrics, error) {
	resp, err := metricsClient.Get("http://" + admin + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	return gatewaytest.ParseMetrics(resp.Body)
}

// connectionsTotal is the sum of wsgateway_connections over the nodes that
// answer.
func (r *runner) connectionsTotal() int {
	sum := 0
	for _, n := range r.nodes {
		if m, err := readMetrics(n.Admin); err == nil {
			v, _ := m.Value("wsgateway_connections")
			sum += int(v)
		}
	}
	return sum
}
