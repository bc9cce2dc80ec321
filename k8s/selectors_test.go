package k8s

import (
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// selects reports whether a label selector matches labels. A nil or empty selector matches
// nothing here: every selector in the bundle is meant to pick specific pods.
func selects(sel *metav1.LabelSelector, lbls map[string]string) bool {
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		return false
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	return err == nil && s.Matches(labels.Set(lbls))
}

// selectsMap reports whether a matchLabels-style selector (Istio's, a Service's) matches
// labels; an empty one matches nothing.
func selectsMap(sel, lbls map[string]string) bool {
	return len(sel) > 0 && labels.SelectorFromSet(sel).Matches(labels.Set(lbls))
}

// containerPort resolves a probe's or Service's port (a number or a port name) against a
// container: the port number, and whether the container has it.
func containerPort(c *corev1.Container, port intstr.IntOrString) (int32, bool) {
	for _, p := range c.Ports {
		if (port.Type == intstr.String && p.Name == port.StrVal) || (port.Type == intstr.Int && p.ContainerPort == port.IntVal) {
			return p.ContainerPort, true
		}
	}
	return 0, false
}

// serviceHost names the Service a mesh host refers to, as Istio resolves a short name in
// the referring object's namespace: "svc", "svc.ns", "svc.ns.svc" or
// "svc.ns.svc.cluster.local". ok is false for a host outside namespace ns.
func serviceHost(host, ns string) (name string, ok bool) {
	parts := strings.Split(strings.TrimSuffix(host, ".cluster.local"), ".")
	switch {
	case len(parts) == 1:
		return parts[0], true
	case len(parts) == 2 || (len(parts) == 3 && parts[2] == "svc"):
		return parts[0], parts[1] == ns
	}
	return "", false
}

// hostNamespace is the namespace of a DNS name inside the cluster ("redis", "redis.ns",
// "pod.svc.ns", with or without ".svc.cluster.local"), or own for a short name.
func hostNamespace(host, own string) string {
	host = strings.TrimSuffix(strings.TrimSuffix(host, ".cluster.local"), ".svc")
	parts := strings.Split(host, ".")
	if len(parts) == 1 {
		return own
	}
	return parts[len(parts)-1]
}
