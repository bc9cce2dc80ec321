package grafana

import (
	"fmt"
	"strconv"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"

	"github.com/wsgateway/wsgateway/loadtest/capacity"
)

// The load-test figures as PromQL numbers (loadtest/capacity holds them).
var (
	podDeliveries     = number(capacity.PodDeliveries)
	podCPU            = number(capacity.PodCPU)
	deliveriesPerCore = number(capacity.DeliveriesPerCore)
	// memoryBudget follows a connection count: the per-pod memory budget of
	// docs/operations.md ("Memory").
	memoryBudget = fmt.Sprintf(" * %d + %d", capacity.BytesPerConnection, capacity.BaseMemory)
)

// number writes a figure as PromQL reads it: 100000, 0.87.
func number(v float64) string {
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// capacityRows are the Capacity dashboard: how close each pod and the
// cluster are to what a pod is known to handle.
func capacityRows() []row {
	return []row{capacityHeadroom(), capacityPerPod(), capacityCluster()}
}

func capacityHeadroom() row {
	delivered := rate("wsgateway_messages_sent_total", `kind="pub"`)
	return row{title: "Headroom", panels: []cog.Builder[dashboard.Panel]{
		single("Busiest pod against its delivery capacity", "percentunit", "The highest deliveries/s of any "+
			"selected pod as a share of the "+podDeliveries+"/s one pod sustained at p99 55 ms in the load "+
			"test (docs/benchmarks.md, fan-out). Above 70 % plan more pods; latency rises steeply past 100 %.",
			query{"max (" + sum("pod", delivered) + ") / " + podDeliveries, "busiest pod"}, 0.7, 0.9).Span(8),
		single("Lowest connection headroom", "percentunit", "The smallest share of --max-connections still "+
			"free on any selected pod (1 - wsgateway_connections / wsgateway_max_connections). Alert "+
			"WSGatewayConnectionsNearLimit fires below 10 %.",
			query{"min (" + sum("pod", "1 - "+sel("wsgateway_connections")+" / "+sel("wsgateway_max_connections")) + ")",
				"lowest headroom"}, 0, 0).Span(8).
			Thresholds(falling(0.1, 0.25)),
		single("Cluster against its delivery capacity", "percentunit", "All selected pods' deliveries/s as "+
			"a share of "+podDeliveries+"/s per ready (not draining) pod, the load-test figure from "+
			"docs/benchmarks.md. Keep room for one zone's pods to fail.",
			query{sum("", delivered) + " / (" + podDeliveries + " * " + sum("", "1 - "+sel("wsgateway_draining")) + ")",
				"cluster"}, 0.6, 0.8).Span(8),
	}}
}

func capacityPerPod() row {
	delivered := sum("pod, zone", rate("wsgateway_messages_sent_total", `kind="pub"`))
	cpu := sum("pod, zone", rate("process_cpu_seconds_total"))
	return row{title: "Per pod", panels: []cog.Builder[dashboard.Panel]{
		withReference(graph("Deliveries/s per pod against capacity", "short", "Publications written to "+
			"sockets per second per pod (wsgateway_messages_sent_total{kind=\"pub\"}); the dashed line is "+
			"the per-pod capacity from the load test in docs/benchmarks.md: "+podDeliveries+" deliveries/s "+
			"at p99 55 ms on about 0.9 core (fan-out to 5,000 subscribers on a 2-core machine).",
			query{delivered, byPod}, query{"vector(" + podDeliveries + ")", "capacity per pod (load test)"}), "B"),
		withReference(graph("CPU per pod", "short", "CPU cores used per pod (rate of "+
			"process_cpu_seconds_total); the dashed line is the "+podCPU+" core the gateway used at "+
			podDeliveries+" deliveries/s in docs/benchmarks.md.",
			query{cpu, byPod}, query{"vector(" + podCPU + ")", "CPU at capacity (load test)"}), "B"),
		withReference(graph("Deliveries per CPU second", "short", "Deliveries per second divided by CPU "+
			"cores used, per pod: how much work a core does. The load test in docs/benchmarks.md did about "+
			deliveriesPerCore+" (dashed); far below it at high load means the CPU goes elsewhere "+
			"(reconnects, GC, slow consumers).",
			query{delivered + " / " + cpu, byPod}, query{"vector(" + deliveriesPerCore + ")", "load test"}), "B"),
		withReference(graph("Memory (RSS) per pod against the budget", "bytes", "Resident memory per pod "+
			"(process_resident_memory_bytes) against the budget of docs/operations.md (dashed): 16 KiB per "+
			"connection (15,143 B measured per idle connection in docs/benchmarks.md) plus 200 MiB.",
			query{sum("pod, zone", sel("process_resident_memory_bytes")), byPod},
			query{sum("pod, zone", sel("wsgateway_connections")+memoryBudget), "{{pod}} budget"}), "B"),
		withReference(graph("Connections per pod against --max-connections", "short", "Open connections "+
			"per pod (wsgateway_connections) and each pod's --max-connections (wsgateway_max_connections, "+
			"dashed); beyond it upgrades get HTTP 503 (connects_total{result=\"over_limit\"}).",
			query{sum("pod, zone", sel("wsgateway_connections")), byPod},
			query{sum("pod, zone", sel("wsgateway_max_connections")), "{{pod}} limit"}), "B"),
		graph("Headroom to --max-connections per pod", "short", "Connections each pod can still accept "+
			"(wsgateway_max_connections - wsgateway_connections).",
			query{sum("pod, zone", sel("wsgateway_max_connections")+" - "+sel("wsgateway_connections")), byPod}),
		withReference(graph("File descriptors per pod against the limit", "short", "Open file descriptors "+
			"per pod (process_open_fds), one per connection plus a few, against the process limit "+
			"(process_max_fds, dashed): at the limit new connections fail to be accepted.",
			query{sum("pod, zone", sel("process_open_fds")), byPod},
			query{sum("pod, zone", sel("process_max_fds")), "{{pod}} limit"}), "B"),
	}}
}

func capacityCluster() row {
	return row{title: "Cluster", panels: []cog.Builder[dashboard.Panel]{
		withReference(graph("Cluster deliveries/s against capacity", "short", "Deliveries per second of "+
			"all selected pods, against "+podDeliveries+"/s (docs/benchmarks.md) times the number of ready "+
			"(not draining) pods (dashed).",
			query{sum("", rate("wsgateway_messages_sent_total", `kind="pub"`)), "deliveries/s"},
			query{podDeliveries + " * " + sum("", "1 - "+sel("wsgateway_draining")), "capacity of ready pods"}), "B"),
		withReference(graph("Cluster connections against the limit", "short", "Open connections of all "+
			"selected pods against the sum of their --max-connections (dashed).",
			query{sum("", sel("wsgateway_connections")), "connections"},
			query{sum("", sel("wsgateway_max_connections")), "limit"}), "B"),
	}}
}

// falling is thresholds for a value where lower is worse: red below bad,
// orange below warn, green from warn on.
func falling(bad, warn float64) *dashboard.ThresholdsConfigBuilder {
	return dashboard.NewThresholdsConfigBuilder().Mode(dashboard.ThresholdsModeAbsolute).Steps([]dashboard.Threshold{
		{Color: "red"}, {Value: cog.ToPtr(bad), Color: "orange"}, {Value: cog.ToPtr(warn), Color: "green"},
	})
}
