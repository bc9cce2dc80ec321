package k8s

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	securityv1beta1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// checkMetricsScrapable: a PodMonitor scrapes the gateway's admin port, and the mesh lets it:
// a plain-HTTP scrape needs a port that is not STRICT mTLS, an AuthorizationPolicy rule that
// asks for no identity (plain HTTP carries none), and so a NetworkPolicy that admits only
// chosen namespaces to the port. Otherwise every dashboard and alert goes blind.
func checkMetricsScrapable(b *bundle) error {
	ports, err := b.ports()
	if err != nil {
		return err
	}
	pods, c := b.gateway().Spec.Template.Labels, b.gatewayContainer()
	var errs []error
	scraped := false
	for _, pm := range b.podMonitors {
		if !selects(&pm.Spec.Selector, pods) {
			continue
		}
		for _, ep := range pm.Spec.PodMetricsEndpoints {
			if ep.Port == nil {
				errs = append(errs, fmt.Errorf("PodMonitor %s: endpoint without a port name", pm.Name))
				continue
			}
			n, ok := containerPort(c, intstr.FromString(*ep.Port))
			if !ok || n != ports.admin {
				errs = append(errs, fmt.Errorf("PodMonitor %s: port %q is not the gateway's admin port %d", pm.Name, *ep.Port, ports.admin))
				continue
			}
			scraped = true
			plain := ep.Scheme == nil || strings.EqualFold(string(*ep.Scheme), "http")
			errs = append(errs, b.scrapeProblems(pm.Name, ports.admin, plain)...)
		}
	}
	if !scraped {
		errs = append(errs, fmt.Errorf("no PodMonitor scrapes the gateway's admin port %d", ports.admin))
	}
	return errors.Join(errs...)
}

// scrapeProblems lists what keeps Prometheus from scraping port through the mesh.
func (b *bundle) scrapeProblems(monitor string, port int32, plain bool) []error {
	var errs []error
	if plain && b.mtlsMode(port) == securityv1beta1.PeerAuthentication_MutualTLS_STRICT {
		errs = append(errs, fmt.Errorf("PodMonitor %s scrapes port %d in plain HTTP, but PeerAuthentication makes it STRICT mTLS: every scrape fails", monitor, port))
	}
	if !b.authzAdmitsScrape(port, plain) {
		errs = append(errs, fmt.Errorf("no AuthorizationPolicy rule admits PodMonitor %s's scrapes of port %d (plain HTTP: %t, so no identity)", monitor, port, plain))
	}
	if plain && b.ingressOpenToAll(port) {
		errs = append(errs, fmt.Errorf("NetworkPolicy admits every namespace to the plain-HTTP admin port %d: limit it to the monitoring namespace", port))
	}
	return errs
}

// mtlsMode is the PeerAuthentication mode the gateway's pods apply on port.
func (b *bundle) mtlsMode(port int32) securityv1beta1.PeerAuthentication_MutualTLS_Mode {
	mode := securityv1beta1.PeerAuthentication_MutualTLS_UNSET
	for _, pa := range b.peerAuths {
		if !selectsMap(pa.Spec.GetSelector().GetMatchLabels(), b.gateway().Spec.Template.Labels) {
			continue
		}
		mode = pa.Spec.GetMtls().GetMode()
		if m, ok := pa.Spec.PortLevelMtls[uint32(port)]; ok && m.GetMode() != securityv1beta1.PeerAuthentication_MutualTLS_UNSET {
			mode = m.GetMode()
		}
	}
	return mode
}

// authzAdmitsScrape reports whether some ALLOW rule lets a GET on port through; for a plain
// request, one that asks for no peer identity.
func (b *bundle) authzAdmitsScrape(port int32, plain bool) bool {
	if len(b.authzPolicies) == 0 {
		return true
	}
	for _, p := range b.authzPolicies {
		if p.Spec.Action != securityv1beta1.AuthorizationPolicy_ALLOW {
			continue
		}
		for _, r := range p.Spec.Rules {
			if ruleCoversPort(r, port) && (!plain || !ruleNeedsIdentity(r)) {
				return true
			}
		}
	}
	return false
}

// ruleCoversPort reports whether an AuthorizationPolicy rule's operations include GETs on port.
func ruleCoversPort(r *securityv1beta1.Rule, port int32) bool {
	if len(r.To) == 0 {
		return true
	}
	for _, to := range r.To {
		op := to.GetOperation()
		ports, methods := op.GetPorts(), op.GetMethods()
		if (len(ports) == 0 || slices.Contains(ports, strconv.Itoa(int(port)))) && (len(methods) == 0 || slices.Contains(methods, "GET")) {
			return true
		}
	}
	return false
}

// ruleNeedsIdentity reports whether every source of a rule names a peer identity.
func ruleNeedsIdentity(r *securityv1beta1.Rule) bool {
	if len(r.From) == 0 {
		return false
	}
	for _, f := range r.From {
		s := f.GetSource()
		if len(s.GetPrincipals()) == 0 && len(s.GetNamespaces()) == 0 && len(s.GetRequestPrincipals()) == 0 {
			return false
		}
	}
	return true
}

// ingressOpenToAll reports whether the gateway's NetworkPolicies admit any namespace to port.
func (b *bundle) ingressOpenToAll(port int32) bool {
	pods := b.gateway().Spec.Template.Labels
	restricted := false
	for _, np := range b.networkPolicies {
		if !selects(&np.Spec.PodSelector, pods) || !hasPolicyType(np, networkingv1.PolicyTypeIngress) {
			continue
		}
		restricted = true
		for _, rule := range np.Spec.Ingress {
			if portsAllow(rule.Ports, port, corev1.ProtocolTCP) && (len(rule.From) == 0 || peersAllow(rule.From, "any-other-namespace", b.namespace)) {
				return true
			}
		}
	}
	return !restricted
}
