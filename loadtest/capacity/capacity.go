// Package capacity holds what one gateway pod is known to handle: the
// figures measured by the load tests in docs/benchmarks.md, and the memory
// budget docs/operations.md derives from them. It is the one place these
// numbers are written down. The Grafana Capacity dashboard draws them as
// reference lines (grafana/capacity.go), the k8s tests hold the manifests'
// memory settings to the budget, and the capacity report
// (go run ./loadtest/report) compares a new load test's figures with them.
//
// When a load test moves a figure, change it here, regenerate the
// dashboards (go test ./grafana -run TestDashboardsUpToDate -update) and
// update the docs that quote it.
package capacity

// Delivery capacity: one node on 2 cores, 5,000 subscribers on one channel
// (docs/benchmarks.md, "Fan-out").
const (
	// PodDeliveries is deliveries/s per pod at p99 55.3 ms, within the
	// 100 ms objective; at 150,000/s the node saturated and p99 reached 254 ms.
	PodDeliveries = 100000
	// PodCPU is the gateway's CPU, in cores, at PodDeliveries.
	PodCPU = 0.87
	// DeliveriesPerCore is PodDeliveries / PodCPU, rounded.
	DeliveriesPerCore = 115000
)

// The memory budget (docs/operations.md, "Memory"): a pod needs
// BytesPerConnection for each connection it may hold plus BaseMemory.
const (
	// BytesPerConnection rounds up the 15,143 B per idle connection
	// measured at 19,900 connections.
	BytesPerConnection = 16 << 10
	// BaseMemory is the pod's own memory before any connection.
	BaseMemory = 200 << 20
)
