// Package gatewaytest builds and starts real wsgateway nodes for tests, in
// the spirit of net/http/httptest: every test and tool in this repository
// starts its gateways through it, and so can the integration tests of your
// own backend, which then talk to the very program that runs in production.
//
// A node runs either as the binary, built once per test binary with the
// Makefile's flags (Binary), in a child process that the test's cleanup
// kills by its PID; or in process, through the same Run that main calls
// (Options.InProcess), which is faster and lets the race detector see the
// server's code. Either way it listens on 127.0.0.1 ports the kernel picks,
// and Start returns once /readyz answers 200:
//
//	func TestBackendPublishes(t *testing.T) {
//		node := gatewaytest.Start(t, gatewaytest.Options{Args: []string{"--dev"}})
//		backend := mybackend.New(node.APIURL())     // publishes through the API
//		ws, _, err := websocket.DefaultDialer.Dial(node.URL(), nil)
//		...
//		if got, _ := node.Metrics(t).Value("wsgateway_connections"); got != 1 {
//			t.Errorf("connections = %v, want 1", got)
//		}
//	}
//
// Redis, Sentinel and Cluster processes for multi-node tests come from the
// sibling package redistest.
//
// Under `go test -short` every function that starts an external process
// (Binary, and Start without InProcess) skips the test, so that -short is a
// fast loop with no processes. A missing tool without -short fails the test;
// it never skips.
//
// A program that is not a test, such as the load tool (wsbench -suite), uses
// Build, Launch and Node.Close, which return errors instead of failing a
// test.
//
// The package is for tests and test tools; the gateway itself never imports it.
package gatewaytest
