package main

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/wsgateway/wsgateway/service/gatewaytest/redistest"
)

// TestAPINodesDuringRedisOutage: with Redis stopped, GET /api/v1/nodes
// still answers 200 with the node that was asked, marked degraded, rather
// than 503; with Redis back, the whole cluster again.
func TestAPINodesDuringRedisOutage(t *testing.T) {
	t.Parallel()
	srv := redistest.Start(t, redistest.Options{})
	a := startNode(t, "--dev", "--redis-url", srv.URL(), "--node-id", "node-a", "--zone", "z1")
	startNode(t, "--dev", "--redis-url", srv.URL(), "--node-id", "node-b")
	nodes := func(wantDegraded bool, wantNodes ...string) func() string {
		return func() string {
			code, res := apiCall(t, a, "GET", "/api/v1/nodes", "", "")
			if code != http.StatusOK {
				return fmt.Sprintf("status %d %v, want 200", code, res)
			}
			ans := typed[nodesAnswer](t, res)
			var got []string
			for _, n := range ans.Nodes {
				got = append(got, n.Node+"/"+n.Zone)
			}
			if ans.Degraded != wantDegraded || fmt.Sprint(got) != fmt.Sprint(wantNodes) {
				return fmt.Sprintf("answer %s, want nodes %v and degraded %v", res, wantNodes, wantDegraded)
			}
			return ""
		}
	}
	waitNodes := func(timeout time.Duration, check func() string) {
		t.Helper()
		within(t, timeout, func() bool { return check() == "" }, check)
	}
	waitNodes(5*time.Second, nodes(false, "node-a/z1", "node-b/"))
	srv.Stop()
	waitNodes(5*time.Second, nodes(true, "node-a/z1"))
	srv.Restart(t) // empty: each node registers again at its next heartbeat (5 s)
	waitNodes(30*time.Second, nodes(false, "node-a/z1", "node-b/"))
}
