package main

import (
	"fmt"
	"math"

	inuse "github.com/wsgateway/wsgateway/loadtest/capacity"
)

// reference is a figure in use elsewhere in the repository that should be
// derived from the measured capacity, and how it compares.
type reference struct {
	File     string  `json:"file"`
	Name     string  `json:"name"`
	Value    float64 `json:"value"`
	Measured float64 `json:"measured"`
	Status   string  `json:"status"`
	OK       bool    `json:"ok"`
}

// figuresFile is where the figures in use are written down, for the
// report's reader: the package this command imports them from.
const figuresFile = "loadtest/capacity/capacity.go"

// tolerance is how far a figure in use may be from the measured one and
// still match: load-test figures vary by a few percent between runs.
const tolerance = 0.05

// figuresInUse are the delivery figures of loadtest/capacity, which the
// Grafana Capacity dashboard draws as reference lines, with the measured
// figure each one should equal. They all come from the deliveries point.
var figuresInUse = []struct {
	name     string
	value    float64
	measured func(perPod) float64
}{
	{"PodDeliveries", inuse.PodDeliveries, func(p perPod) float64 { return p.DeliveriesPerS }},
	{"PodCPU", inuse.PodCPU, func(p perPod) float64 { return p.CPUCoresAtDeliveries }},
	{"DeliveriesPerCore", inuse.DeliveriesPerCore, func(p perPod) float64 { return p.DeliveriesPerCPUCore }},
}

// compareFigures compares the figures in use with the measured ones.
func compareFigures(p perPod) []reference {
	// The tests stopped below the capacity: a figure above the measured one
	// is not contradicted, only not confirmed.
	lowerBound := p.DeliveriesAt == nil || p.DeliveriesAt.Bound == "lower bound"
	var out []reference
	for _, f := range figuresInUse {
		ref := reference{File: figuresFile, Name: f.name, Value: f.value, Measured: f.measured(p)}
		ref.Status, ref.OK = matches(ref.Value, ref.Measured, lowerBound)
		out = append(out, ref)
	}
	return out
}

// matches compares a figure in use with the measured one.
func matches(value, measured float64, lowerBound bool) (string, bool) {
	switch {
	case measured == 0:
		return "not measured", false
	case math.Abs(value-measured) <= tolerance*measured:
		return fmt.Sprintf("matches (within %.0f %%)", tolerance*100), true
	case value > measured && lowerBound:
		return "not confirmed: no load that high was tested", false
	}
	return fmt.Sprintf("differs by %+.0f %% from the measured figure", (value-measured)/measured*100), false
}
