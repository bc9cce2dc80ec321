package k8s

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// istioProtocols are the protocols Istio selects from a Service port's name ("<protocol>" or
// "<protocol>-<suffix>") or its appProtocol. Any other port is treated as opaque TCP, with no
// HTTP routing, retries or metrics.
var istioProtocols = []string{"http", "http2", "https", "grpc", "grpc-web", "tcp", "tls", "mongo", "mysql", "redis", "udp"}

// portProtocol is the protocol Istio uses for a Service port, or "" when it cannot tell.
func portProtocol(p corev1.ServicePort) string {
	if p.AppProtocol != nil {
		if ap := strings.ToLower(*p.AppProtocol); slices.Contains(istioProtocols, ap) {
			return ap
		}
	}
	name := strings.ToLower(p.Name)
	for _, proto := range istioProtocols {
		if name == proto || strings.HasPrefix(name, proto+"-") {
			return proto
		}
	}
	return ""
}

// checkServicePorts: every Service selects some pods and leads each port to a port they have,
// named for a protocol Istio understands; the gateway's client and API ports are HTTP (as TCP
// they would bypass the VirtualServices, and as HTTP/2 the WebSocket upgrade would fail).
func checkServicePorts(b *bundle) error {
	var errs []error
	for _, svc := range b.services {
		pods := b.podsOf(func(l map[string]string) bool { return selectsMap(svc.Spec.Selector, l) })
		if len(pods) == 0 {
			errs = append(errs, fmt.Errorf("Service %s: selector %v selects no pods in the bundle", svc.Name, svc.Spec.Selector))
			continue
		}
		for _, p := range svc.Spec.Ports {
			if portProtocol(p) == "" {
				errs = append(errs, fmt.Errorf("Service %s: port %q names no protocol Istio knows (%v)", svc.Name, p.Name, istioProtocols))
			}
			if !slices.ContainsFunc(pods, func(d *appsv1.Deployment) bool { return hasPort(d, p.TargetPort) }) {
				errs = append(errs, fmt.Errorf("Service %s: targetPort %s is on none of its pods", svc.Name, p.TargetPort.String()))
			}
		}
	}
	errs = append(errs, b.gatewayPortProtocols()...)
	return errors.Join(errs...)
}

// gatewayPortProtocols checks that the gateway Service's client and API ports are plain HTTP.
func (b *bundle) gatewayPortProtocols() []error {
	var errs []error
	for what, which := range map[string]func(gatewayPorts) int32{
		"client (WebSocket)": func(p gatewayPorts) int32 { return p.ws },
		"API":                func(p gatewayPorts) int32 { return p.api },
	} {
		port, err := b.gatewayServicePort(which)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		for _, p := range b.service(gatewayName).Spec.Ports {
			if uint32(p.Port) == port && portProtocol(p) != "http" {
				errs = append(errs, fmt.Errorf("Service %s: the %s port %q is %q to Istio; want http", gatewayName, what, p.Name, portProtocol(p)))
			}
		}
	}
	return errs
}

// hasPort reports whether a Deployment's pods have a container port (by name or number).
func hasPort(d *appsv1.Deployment, port intstr.IntOrString) bool {
	for i := range d.Spec.Template.Spec.Containers {
		if _, ok := containerPort(&d.Spec.Template.Spec.Containers[i], port); ok {
			return true
		}
	}
	return false
}

// checkDisruptionBudget: the gateway has a PodDisruptionBudget; each budget selects exactly
// one Deployment's pods and lets at least one of them be evicted (or node drains hang).
func checkDisruptionBudget(b *bundle) error {
	var errs []error
	covered := false
	for _, pdb := range b.pdbs {
		pods := b.podsOf(func(l map[string]string) bool { return selects(pdb.Spec.Selector, l) })
		if len(pods) != 1 {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s selects the pods of %d Deployments; want exactly one", pdb.Name, len(pods)))
			continue
		}
		covered = covered || pods[0].Name == gatewayName
		if fewest := b.minReplicas(pods[0]); !allowsEviction(pdb.Spec.MinAvailable, pdb.Spec.MaxUnavailable, fewest) {
			errs = append(errs, fmt.Errorf("PodDisruptionBudget %s allows no eviction at %d replicas: node drains would hang", pdb.Name, fewest))
		}
	}
	if !covered {
		errs = append(errs, fmt.Errorf("no PodDisruptionBudget selects the gateway's pods"))
	}
	return errors.Join(errs...)
}

// allowsEviction reports whether a budget lets one pod of replicas go.
func allowsEviction(minAvailable, maxUnavailable *intstr.IntOrString, replicas int32) bool {
	switch {
	case maxUnavailable != nil:
		n, err := intstr.GetScaledValueFromIntOrPercent(maxUnavailable, int(replicas), true)
		return err == nil && n >= 1
	case minAvailable != nil:
		n, err := intstr.GetScaledValueFromIntOrPercent(minAvailable, int(replicas), true)
		return err == nil && int32(n) < replicas
	}
	return true
}

// minReplicas is the fewest pods a Deployment runs: its HPA's minimum, or its replicas.
func (b *bundle) minReplicas(d *appsv1.Deployment) int32 {
	if hpa := b.autoscalerOf(d); hpa != nil && hpa.Spec.MinReplicas != nil {
		return *hpa.Spec.MinReplicas
	}
	if d.Spec.Replicas != nil {
		return *d.Spec.Replicas
	}
	return 1
}

// autoscalerOf returns the HorizontalPodAutoscaler that scales a Deployment, or nil.
func (b *bundle) autoscalerOf(d *appsv1.Deployment) *autoscalingv2.HorizontalPodAutoscaler {
	for _, hpa := range b.hpas {
		ref := hpa.Spec.ScaleTargetRef
		if ref.Kind == "Deployment" && ref.Name == d.Name && strings.HasPrefix(ref.APIVersion, "apps/") {
			return hpa
		}
	}
	return nil
}

// checkAutoscaler: every HPA scales a Deployment in the bundle, which then sets no replicas (an
// apply would reset the count the HPA chose); it scales on connections with CPU as the
// fallback, and scales down slowly, since every removed pod sends its clients reconnecting.
func checkAutoscaler(b *bundle) error {
	var errs []error
	for _, hpa := range b.hpas {
		ref := hpa.Spec.ScaleTargetRef
		d := b.deployment(ref.Name)
		if d == nil || ref.Kind != "Deployment" || b.autoscalerOf(d) != hpa {
			errs = append(errs, fmt.Errorf("HorizontalPodAutoscaler %s scales %s %s, which is not in the bundle", hpa.Name, ref.Kind, ref.Name))
			continue
		}
		if d.Spec.Replicas != nil {
			errs = append(errs, fmt.Errorf("Deployment %s sets replicas: %d, but HorizontalPodAutoscaler %s owns the count", d.Name, *d.Spec.Replicas, hpa.Name))
		}
		errs = append(errs, autoscalerProblems(hpa)...)
		errs = append(errs, b.connectionTargetProblem(hpa))
	}
	return errors.Join(errs...)
}

// connectionTargetProblem: the HPA's target of wsgateway_connections per pod is an AverageValue
// of at most half of WSG_MAX_CONNECTIONS, so that a zone's clients can land on the other zones'
// pods while new pods start (docs/operations.md, "Scale"). checkMemoryLimit holds
// WSG_MAX_CONNECTIONS to the memory budget, so the target fits it too.
func (b *bundle) connectionTargetProblem(hpa *autoscalingv2.HorizontalPodAutoscaler) error {
	maxConns, err := b.maxConnections()
	if err != nil {
		return err
	}
	for _, m := range hpa.Spec.Metrics {
		if m.Pods == nil || m.Pods.Metric.Name != "wsgateway_connections" {
			continue
		}
		target := m.Pods.Target.AverageValue
		switch {
		case m.Pods.Target.Type != autoscalingv2.AverageValueMetricType || target == nil:
			return fmt.Errorf("HorizontalPodAutoscaler %s: want an AverageValue target for wsgateway_connections", hpa.Name)
		case target.Value()*2 > maxConns:
			return fmt.Errorf("HorizontalPodAutoscaler %s: target %s connections per pod is above half of WSG_MAX_CONNECTIONS %d",
				hpa.Name, target.String(), maxConns)
		}
	}
	return nil
}

// autoscalerProblems checks an HPA's metrics and scale-down behaviour.
func autoscalerProblems(hpa *autoscalingv2.HorizontalPodAutoscaler) []error {
	var errs []error
	var onConnections, onCPU bool
	for _, m := range hpa.Spec.Metrics {
		onConnections = onConnections || (m.Pods != nil && m.Pods.Metric.Name == "wsgateway_connections")
		onCPU = onCPU || (m.Resource != nil && m.Resource.Name == corev1.ResourceCPU)
	}
	if !onConnections || !onCPU {
		errs = append(errs, fmt.Errorf("HorizontalPodAutoscaler %s: want metrics wsgateway_connections (Pods) and cpu (the fallback)", hpa.Name))
	}
	down := (*autoscalingv2.HPAScalingRules)(nil)
	if hpa.Spec.Behavior != nil {
		down = hpa.Spec.Behavior.ScaleDown
	}
	if down == nil || down.StabilizationWindowSeconds == nil || *down.StabilizationWindowSeconds < 300 || len(down.Policies) == 0 {
		return append(errs, fmt.Errorf("HorizontalPodAutoscaler %s: scale down slowly: a stabilization window of 300s or more and a policy", hpa.Name))
	}
	for _, p := range down.Policies {
		fast := (p.Type == autoscalingv2.PodsScalingPolicy && p.Value > 2) || (p.Type == autoscalingv2.PercentScalingPolicy && p.Value > 10)
		if fast || p.PeriodSeconds < 60 {
			errs = append(errs, fmt.Errorf("HorizontalPodAutoscaler %s: scale-down policy %s %d per %ds is too fast; at most 2 pods or 10%% per minute", hpa.Name, p.Type, p.Value, p.PeriodSeconds))
		}
	}
	return errs
}
