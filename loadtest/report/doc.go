// Command report turns load-test results into a capacity report:
//
//	go run ./loadtest/report -in loadtest/results -out loadtest/results [-check]
//
// It writes, to -out:
//
//   - report.md: the objectives against what was measured, PASS or FAIL
//     (connection setup p99 < 50 ms, delivery p99 < 100 ms, no publication
//     lost or duplicated, every k6 threshold held, every run complete); the
//     per-pod capacity; every run's figures and which tool made it;
//   - setup-latency-vs-connections.svg: setup p50/p95/p99 against
//     connections held (k6 connect-storm, wsbench idle);
//   - delivery-latency-vs-deliveries.svg: delivery p50/p95/p99 against
//     deliveries/s (k6 fanout, wsbench fanout);
//   - <run>-nodes.svg: each node's connections over a run that has a node
//     series, with the injected faults marked (the reconnect storms);
//   - capacity.json: the per-pod capacity at the objectives (below).
//
// The charts are SVG drawn with gonum.org/v1/plot. With -check the
// command exits 3 when an objective is missed (after writing the report); it
// exits 1 on bad input, writing nothing.
//
// # Inputs
//
// k6 summaries, *.json: the full handleSummary data object of a scenario in
// loadtest/k6 (loadtest/k6/lib/summary.js), with its "wsgateway" block
// (scenario, params, derived). The report reads the metrics wsg_setup_time,
// wsg_delivery_latency and wsg_recovery_time (trends: p(50) or med, p(95),
// p(99), max, count), wsg_deliveries, wsg_lost, wsg_duplicated, wsg_held,
// wsg_subscribed and wsg_connects (counters), and every metric's thresholds.
// A summary named connect-storm-2000 ran the connect-storm scenario.
//
// wsbench lines, *.jsonl: one JSON line per run of service/cmd/wsbench, as
// docs/benchmarks.md describes them (scenario idle or fanout); other lines,
// such as scripts/cluster-bench.sh's {"commandstats": ...}, are skipped.
// wsbench runs are taken to load one gateway node, as the bench scripts do,
// unless manifest.json says otherwise.
//
// Node series, <run>-nodes.csv: each gateway node's connections sampled
// during the run <run> (the k6 summary <run>.json), as loadtest/run
// writes them from each node's /metrics:
//
//	unix_s,node,connections,subscriptions,draining,rss_bytes,goroutines,cpu_seconds
//	1795248122.766,lt-node1,0,0,0,19230720,19,0
//
// unix_s (seconds since the epoch), node and connections are required;
// subscriptions is used when present (the busiest node's share of a fan-out),
// and so is cpu_seconds (the node's process_cpu_seconds_total; 0 or absent:
// not sampled). A row with empty fields is a node that did not answer.
//
// A node's CPU cores while loaded are the CPU seconds it used over the wall
// seconds from its first to its last sample holding connections or
// subscriptions: not the idle time the sampler spent around the run, but the
// ramp and drain, as the series does not say when publishing started.
// cpu_seconds is cumulative, so the report sums the differences between the
// node's consecutive samples; a difference that goes down is a restarted
// node, and that interval is left out, its wall time too.
//
// manifest.json, from loadtest/run: the cluster (its node count makes
// each listed run a cluster run), per run the files it wrote, its exit status
// (a failure other than k6's 99, thresholds missed, makes the run incomplete)
// and the fault it injected, marked on the node series at fault_at_unix.
//
// # Objectives and capacity
//
// A run that misses a latency objective at a higher load than a run of the
// same series that met it is over capacity: sweeps find the capacity by
// going past it, so it bounds the capacity without failing the objective.
// The delivery objective applies to steady load, not to reconnect storms.
//
// The per-pod capacity is the highest load one pod carried in a run that met
// every objective: deliveries/s from the fan-out runs, connections from the
// connect-storm and idle runs. A run against one node counts whole; a cluster
// run counts its busiest node's share, from its node series (or an even
// split). The CPU at that deliveries figure is what wsbench read of the one
// node it loaded, or for a cluster run the busiest node's CPU cores while
// loaded, from its node series' cpu_seconds; deliveries per CPU core divides
// the pod's deliveries/s by it, and cpu_from in capacity.json says which.
// At a smoke run's light load much of a node's CPU is not spent on
// deliveries (holding connections, scrapes, the runtime), so its deliveries
// per core are far below those of a loaded pod.
//
// capacity.json holds the figures, the run each comes from, whether a higher
// load was tested and missed ("bracketed") or not ("lower bound"), and how
// the figures in use compare: the constants PodDeliveries, PodCPU and
// DeliveriesPerCore of loadtest/capacity, which the Grafana Capacity
// dashboard draws as reference lines. The report does not change them; it
// says where they differ. (The HPA's connection target is checked against
// --max-connections and the memory budget by the k8s tests.)
package main
