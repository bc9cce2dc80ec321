package main

import (
	"bufio"
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"math"
	"os"
	"strconv"
	"strings"
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

// tolerance is how far a figure in use may be from the measured one and
// still match: load-test figures vary by a few percent between runs.
const tolerance = 0.05

// grafanaConstants are the constants of grafana/capacity.go drawn as the
// Capacity dashboard's reference lines, with the measured figure each one
// should equal.
// They all come from the deliveries point.
var grafanaConstants = []struct {
	name     string
	measured func(perPod) float64
}{
	{"podDeliveries", func(p perPod) float64 { return p.DeliveriesPerS }},
	{"podCPU", func(p perPod) float64 { return p.CPUCoresAtDeliveries }},
	{"deliveriesPerCore", func(p perPod) float64 { return p.DeliveriesPerCPUCore }},
}

// lowerBound: the tests stopped below the capacity, so a figure above the
// measured one is not contradicted, only not confirmed.
func lowerBound(at *loadPoint) bool {
	return at == nil || at.Bound == "lower bound"
}

// compareGrafana reads the constants from the Go file and compares them.
func compareGrafana(path string, p perPod) []reference {
	consts, err := goStringConsts(path)
	var out []reference
	for _, c := range grafanaConstants {
		ref := reference{File: path, Name: c.name, Measured: c.measured(p)}
		v, ok := consts[c.name]
		switch {
		case err != nil:
			ref.Status = "not read: " + err.Error()
		case !ok:
			ref.Status = "constant not found"
		default:
			ref.Value = v
			ref.Status, ref.OK = matches(v, ref.Measured, lowerBound(p.DeliveriesAt))
		}
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

// compareHPA reads each HPA's target for wsgateway_connections per pod: it
// must not exceed the connections one pod held within the objectives.
func compareHPA(paths []string, p perPod) []reference {
	var out []reference
	for _, path := range paths {
		ref := reference{File: path, Name: "wsgateway_connections averageValue", Measured: float64(p.Connections)}
		v, err := hpaConnectionTarget(path)
		switch {
		case err != nil:
			ref.Status = "not read: " + err.Error()
		case p.Connections == 0:
			ref.Value, ref.Status = v, "not measured"
		case v <= ref.Measured:
			ref.Value, ref.Status, ref.OK = v, "within the tested per-pod capacity", true
		default:
			ref.Value = v
			ref.Status = "above the tested per-pod capacity"
			if lowerBound(p.ConnectionsAt) {
				ref.Status += " (a lower bound: no higher load was tested)"
			}
		}
		out = append(out, ref)
	}
	return out
}

// goStringConsts returns the package-level string constants of a Go file
// that parse as numbers.
func goStringConsts(path string) (map[string]float64, error) {
	f, err := parser.ParseFile(token.NewFileSet(), path, nil, 0)
	if err != nil {
		return nil, err
	}
	out := map[string]float64{}
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs := spec.(*ast.ValueSpec)
			for i, name := range vs.Names {
				if i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				s, _ := strconv.Unquote(lit.Value)
				if v, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err == nil {
					out[name.Name] = v
				}
			}
		}
	}
	return out, nil
}

// hpaConnectionTarget finds the averageValue of the Pods metric
// wsgateway_connections in a HorizontalPodAutoscaler manifest: the first
// averageValue after the metric's name.
func hpaConnectionTarget(path string) (float64, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	seen := false
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "#") {
			continue
		}
		if line == "name: wsgateway_connections" {
			seen = true
		}
		if v, ok := strings.CutPrefix(line, "averageValue:"); ok && seen {
			return parseQuantity(strings.Trim(strings.TrimSpace(v), `"'`))
		}
	}
	return 0, fmt.Errorf("no averageValue for wsgateway_connections")
}

// parseQuantity reads a Kubernetes quantity as HPA targets use them: 40000,
// 40k, 1.5M, 500m.
func parseQuantity(s string) (float64, error) {
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"):
		s, mult = strings.TrimSuffix(s, "k"), 1e3
	case strings.HasSuffix(s, "M"):
		s, mult = strings.TrimSuffix(s, "M"), 1e6
	case strings.HasSuffix(s, "m"):
		s, mult = strings.TrimSuffix(s, "m"), 1e-3
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, fmt.Errorf("averageValue %q: %w", s, err)
	}
	return v * mult, nil
}
