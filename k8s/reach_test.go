package k8s

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// dependency is something the gateway's pod connects to.
type dependency struct {
	what     string
	host     string // a cluster DNS name; "" when only the namespace is known
	ns       string
	port     int32
	protocol corev1.Protocol
	app      bool // the app's own connection, which also passes the Sidecar's egress
}

// dependencies lists what the gateway's pods connect to: DNS and istiod always, Redis, the
// OpenTelemetry collector and the hook backends as configured.
func (b *bundle) dependencies() ([]dependency, error) {
	env, _, err := b.gatewayEnv()
	if err != nil {
		return nil, err
	}
	deps := []dependency{
		{what: "DNS", ns: "kube-system", port: 53, protocol: corev1.ProtocolUDP},
		{what: "istiod", ns: "istio-system", port: 15012, protocol: corev1.ProtocolTCP},
	}
	if u := env["WSG_REDIS_URL"]; u != "" {
		redis, err := redisDependencies(u, b.namespace)
		if err != nil {
			return nil, err
		}
		deps = append(deps, redis...)
	}
	for _, key := range []string{"OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"} {
		if v := env[key]; v != "" {
			d, err := endpointDependency(key, v, b.namespace)
			if err != nil {
				return nil, err
			}
			deps = append(deps, d)
		}
	}
	hooks, err := b.hookDependencies()
	if err != nil {
		return nil, err
	}
	return append(deps, hooks...), nil
}

// redisDependencies reads the servers of a --redis-url. Behind Sentinel, the master's address
// comes from the sentinels: it is taken to be in their namespace, on 6379.
func redisDependencies(raw, own string) ([]dependency, error) {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		return nil, fmt.Errorf("WSG_REDIS_URL=%q: no scheme", raw)
	}
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		rest = rest[i+1:]
	}
	rest, _, _ = strings.Cut(rest, "/")
	defaultPort := "6379"
	if scheme == "redis-sentinel" {
		defaultPort = "26379"
	}
	var deps []dependency
	for _, hp := range strings.Split(rest, ",") {
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			host, port = hp, defaultPort
		}
		n, err := strconv.Atoi(port)
		if err != nil || host == "" {
			return nil, fmt.Errorf("WSG_REDIS_URL=%q: bad server %q", raw, hp)
		}
		deps = append(deps, dependency{what: "Redis", host: host, ns: hostNamespace(host, own), port: int32(n), protocol: corev1.ProtocolTCP, app: true})
	}
	if scheme == "redis-sentinel" && len(deps) > 0 {
		deps = append(deps, dependency{what: "Redis master", ns: deps[0].ns, port: 6379, protocol: corev1.ProtocolTCP, app: true})
	}
	return deps, nil
}

// endpointDependency reads an OTLP endpoint URL (gRPC 4317 and HTTP 4318 by default).
func endpointDependency(key, raw, own string) (dependency, error) {
	u, err := url.Parse(raw)
	if err != nil || u.Hostname() == "" {
		return dependency{}, fmt.Errorf("%s=%q: not a URL", key, raw)
	}
	port := u.Port()
	if port == "" {
		port = "4317"
	}
	n, err := strconv.Atoi(port)
	if err != nil {
		return dependency{}, fmt.Errorf("%s=%q: bad port", key, raw)
	}
	return dependency{what: "the OpenTelemetry collector", host: u.Hostname(), ns: hostNamespace(u.Hostname(), own), port: int32(n), protocol: corev1.ProtocolTCP, app: true}, nil
}

// checkDependencies: the NetworkPolicy lets the pods reach everything they connect to, and the
// Sidecar's egress knows the app's own dependencies (REGISTRY_ONLY drops the rest).
func checkDependencies(b *bundle) error {
	deps, err := b.dependencies()
	if err != nil {
		return err
	}
	var errs []error
	for _, d := range deps {
		if !b.egressAllowed(d) {
			errs = append(errs, fmt.Errorf("NetworkPolicy: no egress rule lets the gateway reach %s (namespace %s, port %d/%s)", d.what, d.ns, d.port, d.protocol))
		}
		if d.app && !b.sidecarKnows(d) {
			errs = append(errs, fmt.Errorf("Sidecar: egress hosts do not include %s (namespace %s): the proxy drops the connection", d.what, d.ns))
		}
	}
	return errors.Join(errs...)
}

// egressAllowed reports whether the gateway's NetworkPolicies allow a connection to d.
func (b *bundle) egressAllowed(d dependency) bool {
	pods := b.gateway().Spec.Template.Labels
	restricted := false
	for _, np := range b.networkPolicies {
		if !selects(&np.Spec.PodSelector, pods) || !hasPolicyType(np, networkingv1.PolicyTypeEgress) {
			continue
		}
		restricted = true
		for _, rule := range np.Spec.Egress {
			if portsAllow(rule.Ports, d.port, d.protocol) && peersAllow(rule.To, d.ns, b.namespace) {
				return true
			}
		}
	}
	return !restricted
}

// hasPolicyType reports whether a NetworkPolicy restricts traffic in direction t.
func hasPolicyType(np *networkingv1.NetworkPolicy, t networkingv1.PolicyType) bool {
	return slices.Contains(np.Spec.PolicyTypes, t)
}

// portsAllow reports whether a NetworkPolicy rule's ports include port/protocol.
func portsAllow(ports []networkingv1.NetworkPolicyPort, port int32, protocol corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		if proto == protocol && (p.Port == nil || p.Port.IntVal == port || (p.EndPort != nil && p.Port.IntVal <= port && port <= *p.EndPort)) {
			return true
		}
	}
	return false
}

// peersAllow reports whether a NetworkPolicy rule's peers include namespace ns (own is the
// policy's own namespace). A pod selector cannot be checked here and is taken to match.
func peersAllow(peers []networkingv1.NetworkPolicyPeer, ns, own string) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		switch {
		case p.IPBlock != nil:
			return true
		case p.NamespaceSelector != nil:
			if namespaceSelects(p.NamespaceSelector, ns) {
				return true
			}
		case ns == own:
			return true
		}
	}
	return false
}

// namespaceSelects reports whether a NetworkPolicy namespace selector (where {} means every
// namespace) matches namespace ns, known by its kubernetes.io/metadata.name label.
func namespaceSelects(sel *metav1.LabelSelector, ns string) bool {
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set{"kubernetes.io/metadata.name": ns})
}

// sidecarKnows reports whether the Sidecar of the gateway's pods lets the app reach d.
func (b *bundle) sidecarKnows(d dependency) bool {
	pods := b.gateway().Spec.Template.Labels
	for _, s := range b.sidecars {
		if !selectsMap(s.Spec.GetWorkloadSelector().GetLabels(), pods) {
			continue
		}
		for _, l := range s.Spec.Egress {
			if p := l.GetPort().GetNumber(); p != 0 && p != uint32(d.port) {
				continue
			}
			for _, h := range l.Hosts {
				if egressHostAdmits(h, d, b.namespace) {
					return true
				}
			}
		}
		return false
	}
	return true // no Sidecar: the proxy knows every service
}

// egressHostAdmits reports whether a Sidecar egress host ("ns/dns") admits d.
func egressHostAdmits(h string, d dependency, own string) bool {
	ns, dns, ok := strings.Cut(h, "/")
	if !ok {
		return false
	}
	if !(ns == "*" || ns == d.ns || (ns == "." && d.ns == own)) {
		return false
	}
	return dns == "*" || (d.host != "" && (strings.HasPrefix(dns, "*.") && strings.HasSuffix(d.host, dns[1:]) || dns == d.host))
}
