package k8s

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
)

// checkMeshSelectors: every mesh policy selects the gateway's pods and every NetworkPolicy
// some pods (a selector that matches nothing silently turns a policy off), the gateway has each
// kind of policy it needs, and the ports the policies name are ports the gateway listens on.
func checkMeshSelectors(b *bundle) error {
	pods := b.gateway().Spec.Template.Labels
	var errs []error
	need := func(kind, name string, sel map[string]string) {
		if !selectsMap(sel, pods) {
			errs = append(errs, fmt.Errorf("%s %s: selector %v does not select the gateway's pods %v", kind, name, sel, pods))
		}
	}
	for _, p := range b.authzPolicies {
		need("AuthorizationPolicy", p.Name, p.Spec.GetSelector().GetMatchLabels())
	}
	for _, p := range b.peerAuths {
		need("PeerAuthentication", p.Name, p.Spec.GetSelector().GetMatchLabels())
	}
	for _, p := range b.telemetries {
		need("Telemetry", p.Name, p.Spec.GetSelector().GetMatchLabels())
	}
	for _, s := range b.sidecars {
		need("Sidecar", s.Name, s.Spec.GetWorkloadSelector().GetLabels())
	}
	gatewayIsolated := 0
	for _, n := range b.networkPolicies {
		if selects(&n.Spec.PodSelector, pods) {
			gatewayIsolated++
		} else if len(b.podsOf(func(l map[string]string) bool { return selects(&n.Spec.PodSelector, l) })) == 0 {
			errs = append(errs, fmt.Errorf("NetworkPolicy %s: podSelector selects no pods in the bundle", n.Name))
		}
	}
	for kind, n := range map[string]int{"AuthorizationPolicy": len(b.authzPolicies), "PeerAuthentication": len(b.peerAuths),
		"Sidecar": len(b.sidecars), "NetworkPolicy": gatewayIsolated} {
		if n == 0 {
			errs = append(errs, fmt.Errorf("no %s for the gateway", kind))
		}
	}
	return errors.Join(append(errs, b.policyPortProblems()...)...)
}

// policyPortProblems: the ports in the AuthorizationPolicies and PeerAuthentications are the
// gateway's, and the client and API ports are each allowed by some rule (an ALLOW policy
// denies whatever it does not name).
func (b *bundle) policyPortProblems() []error {
	ports, err := b.ports()
	if err != nil {
		return []error{err}
	}
	own := []int32{ports.ws, ports.api, ports.admin}
	var errs []error
	allowed := map[int32]bool{}
	for _, p := range b.authzPolicies {
		for _, r := range p.Spec.Rules {
			for _, to := range r.To {
				for _, s := range to.GetOperation().GetPorts() {
					n, err := strconv.Atoi(s)
					if err != nil || !slices.Contains(own, int32(n)) {
						errs = append(errs, fmt.Errorf("AuthorizationPolicy %s: port %q is none of the gateway's %v", p.Name, s, own))
					}
					allowed[int32(n)] = true
				}
			}
		}
	}
	for _, port := range []int32{ports.ws, ports.api} {
		if len(b.authzPolicies) > 0 && !allowed[port] {
			errs = append(errs, fmt.Errorf("no AuthorizationPolicy rule allows port %d: every request to it is denied", port))
		}
	}
	for _, p := range b.peerAuths {
		for port := range p.Spec.PortLevelMtls {
			if !slices.Contains(own, int32(port)) {
				errs = append(errs, fmt.Errorf("PeerAuthentication %s: portLevelMtls names port %d, none of the gateway's %v", p.Name, port, own))
			}
		}
	}
	return errs
}

// checkMeshHosts: DestinationRules and VirtualServices name the Service in the bundle or a
// hook backend's (a misspelled host makes Istio ignore the rule), on ports it has; routes
// bound to a Gateway use one in the bundle, for host names it serves.
func checkMeshHosts(b *bundle) error {
	var errs []error
	for _, dr := range b.destinationRules {
		if b.isHookHost(dr.Spec.Host, dr.Namespace) {
			continue // checkHookRoutes checks it
		}
		if name, ok := serviceHost(dr.Spec.Host, dr.Namespace); !ok || b.service(name) == nil {
			errs = append(errs, fmt.Errorf("DestinationRule %s: host %q is no Service in the bundle", dr.Name, dr.Spec.Host))
		}
	}
	if _, err := b.gatewayDestinationRule(); err != nil {
		errs = append(errs, err)
	}
	for _, vs := range b.virtualServices {
		errs = append(errs, b.destinationProblems(vs)...)
		errs = append(errs, b.gatewayBindingProblems(vs)...)
	}
	return errors.Join(errs...)
}

// destinationProblems checks the destinations of a VirtualService's HTTP routes.
func (b *bundle) destinationProblems(vs *istionetworking.VirtualService) []error {
	var errs []error
	for _, r := range vs.Spec.Http {
		for _, d := range r.Route {
			host := d.GetDestination().GetHost()
			if b.isHookHost(host, vs.Namespace) {
				continue // a Service outside the bundle; checkHookRoutes checks the route
			}
			name, ok := serviceHost(host, vs.Namespace)
			svc := b.service(name)
			if !ok || svc == nil {
				errs = append(errs, fmt.Errorf("VirtualService %s: destination %q is no Service in the bundle", vs.Name, host))
				continue
			}
			if p := d.GetDestination().GetPort(); p != nil && !slices.ContainsFunc(svc.Spec.Ports, func(sp corev1.ServicePort) bool { return uint32(sp.Port) == p.Number }) {
				errs = append(errs, fmt.Errorf("VirtualService %s: Service %s has no port %d", vs.Name, name, p.Number))
			}
		}
	}
	return errs
}

// gatewayBindingProblems checks a VirtualService's Gateways and the hosts they serve.
func (b *bundle) gatewayBindingProblems(vs *istionetworking.VirtualService) []error {
	var errs []error
	for _, ref := range vs.Spec.Gateways {
		if ref == "mesh" {
			continue
		}
		ns, name, found := strings.Cut(ref, "/")
		if !found {
			ns, name = vs.Namespace, ref
		}
		i := slices.IndexFunc(b.istioGateways, func(g *istionetworking.Gateway) bool { return g.Name == name && g.Namespace == ns })
		if i < 0 {
			errs = append(errs, fmt.Errorf("VirtualService %s: Gateway %q is not in the bundle", vs.Name, ref))
			continue
		}
		for _, h := range vs.Spec.Hosts {
			if !gatewayServes(b.istioGateways[i], h) {
				errs = append(errs, fmt.Errorf("VirtualService %s: host %q is served by no server of Gateway %s", vs.Name, h, name))
			}
		}
	}
	return errs
}

// gatewayServes reports whether one of a Gateway's servers accepts a VirtualService host.
func gatewayServes(g *istionetworking.Gateway, host string) bool {
	for _, s := range g.Spec.Servers {
		for _, h := range s.Hosts {
			if _, after, ok := strings.Cut(h, "/"); ok {
				h = after
			}
			if h == "*" || h == host || (strings.HasPrefix(h, "*.") && strings.HasSuffix(host, h[1:])) {
				return true
			}
		}
	}
	return false
}
