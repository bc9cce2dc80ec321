// Package loadtest holds the capacity tests' checks. The load itself lives
// next to it: k6/ (the k6 scenarios, run by loadtest/run for `make
// loadtest` and `make capacity-smoke`) and haproxy.cfg (the load balancer
// in front of the nodes). Its tests prove that the capacity gate can fail:
// gate_test.go runs the smoke fan-out scenario with k6 through a
// fault-injecting TCP proxy written in the test, and expects k6 to fail its
// thresholds (exit 99) when the proxy adds latency or swallows a
// connection's traffic, and to pass without faults.
package loadtest
