package k8s

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
)

// preUpgradeRetryOn are the Envoy retry conditions that can only happen before a request
// reached the gateway, so before a WebSocket upgrade completed.
var preUpgradeRetryOn = []string{"connect-failure", "refused-stream", "reset-before-request"}

// checkWebSocketRoutes: every HTTP route that can reach the gateway's WebSocket port has no
// timeout (Istio disables it when unset; any value cuts every connection at that age) and
// retries only failures before the upgrade. Clients must be able to get there from a Gateway.
func checkWebSocketRoutes(b *bundle) error {
	wsPort, err := b.gatewayServicePort(func(p gatewayPorts) int32 { return p.ws })
	if err != nil {
		return err
	}
	var errs []error
	fromIngress := false
	for _, vs := range b.virtualServices {
		for i, r := range vs.Spec.Http {
			if !b.routesTo(vs, r, wsPort) {
				continue
			}
			where := fmt.Sprintf("VirtualService %s, route %d (%q) to the WebSocket port", vs.Name, i, r.Name)
			errs = append(errs, wsRouteProblems(where, r)...)
			fromIngress = fromIngress || slices.ContainsFunc(vs.Spec.Gateways, func(g string) bool { return g != "mesh" })
		}
	}
	if !fromIngress {
		errs = append(errs, fmt.Errorf("no VirtualService bound to a Gateway routes to the WebSocket port %d: clients cannot connect", wsPort))
	}
	return errors.Join(errs...)
}

// wsRouteProblems lists what is wrong with one route to the WebSocket port.
func wsRouteProblems(where string, r *networkingv1alpha3.HTTPRoute) []error {
	var errs []error
	if r.Timeout != nil {
		errs = append(errs, fmt.Errorf("%s: timeout %s would close every WebSocket at that age; leave timeout out (Istio then sets none)", where, r.Timeout.AsDuration()))
	}
	rt := r.Retries
	switch {
	case rt == nil:
		errs = append(errs, fmt.Errorf("%s: no retries: Istio's default policy then applies, which retries more than failures before the upgrade; set retryOn to some of %v", where, preUpgradeRetryOn))
	case rt.Attempts == 0:
		// No retries at all: fine.
	case rt.PerTryTimeout != nil:
		errs = append(errs, fmt.Errorf("%s: perTryTimeout %s applies to the upgraded connection too; leave it out", where, rt.PerTryTimeout.AsDuration()))
	case strings.TrimSpace(rt.RetryOn) == "":
		errs = append(errs, fmt.Errorf("%s: retries without retryOn get Istio's default conditions; set retryOn to some of %v", where, preUpgradeRetryOn))
	}
	if rt != nil && rt.Attempts > 0 {
		for _, cond := range strings.Split(rt.RetryOn, ",") {
			if cond = strings.TrimSpace(cond); cond != "" && !slices.Contains(preUpgradeRetryOn, cond) {
				errs = append(errs, fmt.Errorf("%s: retryOn %q may retry after the gateway got the upgrade; only %v are safe", where, cond, preUpgradeRetryOn))
			}
		}
	}
	return errs
}

// routesTo reports whether a route can send requests to the gateway's Service on port: a
// destination names the Service, and its port (or, when it names none, the ports the route
// matches on) may be port.
func (b *bundle) routesTo(vs *istionetworking.VirtualService, r *networkingv1alpha3.HTTPRoute, port uint32) bool {
	for _, d := range r.Route {
		name, ok := serviceHost(d.GetDestination().GetHost(), vs.Namespace)
		if !ok || name != gatewayName {
			continue
		}
		if p := d.GetDestination().GetPort(); p != nil {
			if p.Number == port {
				return true
			}
			continue
		}
		if len(r.Match) == 0 || slices.ContainsFunc(r.Match, func(m *networkingv1alpha3.HTTPMatchRequest) bool {
			return m.Port == 0 || m.Port == port
		}) {
			return true
		}
	}
	return false
}

// gatewayServicePort returns the number of the gateway Service's port that leads to one of the
// gateway's listen ports.
func (b *bundle) gatewayServicePort(which func(gatewayPorts) int32) (uint32, error) {
	ports, err := b.ports()
	if err != nil {
		return 0, err
	}
	svc, c := b.service(gatewayName), b.gatewayContainer()
	if svc == nil {
		return 0, fmt.Errorf("no Service %s", gatewayName)
	}
	for _, p := range svc.Spec.Ports {
		if n, ok := containerPort(c, p.TargetPort); ok && n == which(ports) {
			return uint32(p.Port), nil
		}
	}
	return 0, fmt.Errorf("Service %s has no port leading to container port %d", gatewayName, which(ports))
}

// gatewayDestinationRule returns the DestinationRule for the gateway's Service.
func (b *bundle) gatewayDestinationRule() (*istionetworking.DestinationRule, error) {
	for _, dr := range b.destinationRules {
		if name, ok := serviceHost(dr.Spec.Host, dr.Namespace); ok && name == gatewayName {
			return dr, nil
		}
	}
	return nil, fmt.Errorf("no DestinationRule for Service %s", gatewayName)
}

// checkDestinationRule: callers balance on open connections (LEAST_REQUEST; round robin would
// leave new pods empty after a scale-out), keep WebSockets on HTTP/1.1, and have no connection
// cap below what one pod holds.
func checkDestinationRule(b *bundle) error {
	dr, err := b.gatewayDestinationRule()
	if err != nil {
		return err
	}
	maxConns, err := b.maxConnections()
	if err != nil {
		return err
	}
	tp := dr.Spec.TrafficPolicy
	var errs []error
	if got := tp.GetLoadBalancer().GetSimple(); got != networkingv1alpha3.LoadBalancerSettings_LEAST_REQUEST {
		errs = append(errs, fmt.Errorf("DestinationRule %s: loadBalancer.simple %s; want LEAST_REQUEST, which counts open WebSockets", dr.Name, got))
	}
	if got := tp.GetConnectionPool().GetHttp().GetH2UpgradePolicy(); got != networkingv1alpha3.ConnectionPoolSettings_HTTPSettings_DO_NOT_UPGRADE {
		errs = append(errs, fmt.Errorf("DestinationRule %s: h2UpgradePolicy %s; want DO_NOT_UPGRADE: the gateway's WebSockets need HTTP/1.1", dr.Name, got))
	}
	if n := tp.GetConnectionPool().GetTcp().GetMaxConnections(); n != 0 && int64(n) < maxConns {
		errs = append(errs, fmt.Errorf("DestinationRule %s: tcp.maxConnections %d caps each caller below what one pod holds (WSG_MAX_CONNECTIONS=%d)", dr.Name, n, maxConns))
	}
	if tp.GetConnectionPool().GetTcp().GetTcpKeepalive() == nil {
		errs = append(errs, fmt.Errorf("DestinationRule %s: no tcpKeepalive: dead long-lived connections would linger", dr.Name))
	}
	return errors.Join(errs...)
}

// checkLocalityFailover: wherever locality load balancing is on, outlier detection is on at the
// same level, or Envoy never sees a zone as unhealthy and never fails over.
func checkLocalityFailover(b *bundle) error {
	var errs []error
	for _, dr := range b.destinationRules {
		top := dr.Spec.TrafficPolicy
		check := func(where string, lb *networkingv1alpha3.LoadBalancerSettings, od *networkingv1alpha3.OutlierDetection) {
			l := lb.GetLocalityLbSetting()
			if l != nil && (l.Enabled == nil || l.Enabled.Value) && od == nil {
				errs = append(errs, fmt.Errorf("DestinationRule %s%s: localityLbSetting without outlierDetection never fails over", dr.Name, where))
			}
		}
		check("", top.GetLoadBalancer(), top.GetOutlierDetection())
		for _, p := range top.GetPortLevelSettings() {
			// Port-level settings replace the top level's as a whole.
			check(fmt.Sprintf(" port %d", p.GetPort().GetNumber()), p.LoadBalancer, p.OutlierDetection)
		}
		for _, s := range dr.Spec.Subsets {
			// A subset's settings are merged over the top level's, field by field.
			lb, od := s.GetTrafficPolicy().GetLoadBalancer(), s.GetTrafficPolicy().GetOutlierDetection()
			if lb == nil {
				lb = top.GetLoadBalancer()
			}
			if od == nil {
				od = top.GetOutlierDetection()
			}
			check(" subset "+s.Name, lb, od)
		}
	}
	return errors.Join(errs...)
}
