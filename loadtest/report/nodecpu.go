package main

// loadedCores is the CPU cores a node used while the run loaded it: the
// CPU seconds it consumed over the wall seconds that passed, from its first
// to its last sample holding connections or subscriptions. samples are one
// node's, by time.
//
// The window leaves out the idle time before the clients arrived and after
// they left, which would dilute the figure by however long the sampler ran
// around the run. It keeps the ramp and the drain: the series does not say
// when publishing started, and setting up and closing the run's connections
// is work the pod did for that load.
//
// process_cpu_seconds_total is cumulative, so each pair of consecutive
// samples that both read it gives CPU over wall time. A node that did not
// answer has no sample, so its gap falls inside one pair, which still holds
// if the process lived on. A pair whose counter went down spans a restart
// (the node was killed and came back): its CPU is unknown, so the pair's
// wall time is left out too. 0 when no pair is left.
func loadedCores(samples []nodeSample) float64 {
	first, last := -1, -1
	for i, x := range samples {
		if x.Connections > 0 || x.Subscriptions > 0 {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return 0
	}
	var cpu, wallMs float64
	prev := -1 // the last sample in the window that read the counter
	for i := first; i <= last; i++ {
		if samples[i].CPUSeconds <= 0 {
			continue // not sampled
		}
		if prev >= 0 {
			if d := samples[i].CPUSeconds - samples[prev].CPUSeconds; d >= 0 {
				cpu, wallMs = cpu+d, wallMs+samples[i].TMs-samples[prev].TMs
			}
		}
		prev = i
	}
	if wallMs <= 0 {
		return 0
	}
	return cpu / (wallMs / 1000)
}
