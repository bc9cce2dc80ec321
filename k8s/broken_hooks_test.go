package k8s

import (
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	istiosecurity "istio.io/client-go/pkg/apis/security/v1"
	corev1 "k8s.io/api/core/v1"
)

// hooksOverlay is the overlay that includes k8s/components/backend-hooks.
const hooksOverlay = "hooks-example"

// brokenHookCases break the backend-hooks component: its configuration, its routes, its
// egress and the backend's AuthorizationPolicy.
func brokenHookCases() []brokenCopy {
	route := func(t *testing.T, b *bundle) *networkingv1alpha3.HTTPRoute {
		return virtualService(t, b, "wsgateway-hooks").Spec.Http[0]
	}
	return []brokenCopy{
		{"hooks-config", "the hooks file in a ConfigMap without the content hash", hooksOverlay, func(t *testing.T, b *bundle) {
			renameConfigMap(t, b, hooksConfigMap(t, b), "wsgateway-hooks")
		}},
		{"hooks-config", "WSG_HOOKS_CONFIG names a file on no volume", hooksOverlay, func(t *testing.T, b *bundle) {
			gatewayConfig(t, b).Data[hooksVariable] = "/etc/wsgateway/hooks.yaml"
		}},
		{"hooks-config", "the volume left out of the pods", hooksOverlay, func(t *testing.T, b *bundle) {
			c := b.gatewayContainer()
			c.VolumeMounts = slices.DeleteFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool { return m.Name == "hooks" })
		}},
		{"hooks-config", "a hook naming an endpoint the file does not define", hooksOverlay, func(t *testing.T, b *bundle) {
			editHooks(t, b, "rpc:\n", "rpc:\n  billing: {endpoint: payments}\n")
		}},
		{"hook-routes", "retries on 5xx, which re-run a hook that answered", hooksOverlay, func(t *testing.T, b *bundle) {
			route(t, b).Retries.RetryOn = "connect-failure,5xx"
		}},
		{"hook-routes", "retries on gateway-error", hooksOverlay, func(t *testing.T, b *bundle) {
			route(t, b).Retries.RetryOn = "reset-before-request,gateway-error"
		}},
		{"hook-routes", "no retries, so Istio's default policy", hooksOverlay, func(t *testing.T, b *bundle) {
			route(t, b).Retries = nil
		}},
		{"hook-routes", "a route timeout below the rpc hook's 2s", hooksOverlay, func(t *testing.T, b *bundle) {
			route(t, b).Timeout = durationpb.New(1500 * time.Millisecond)
		}},
		{"hook-routes", "a hook timeout raised above the route's", hooksOverlay, func(t *testing.T, b *bundle) {
			editHooks(t, b, "timeout: 2s", "timeout: 5s")
		}},
		{"hook-routes", "a perTryTimeout", hooksOverlay, func(t *testing.T, b *bundle) {
			route(t, b).Retries.PerTryTimeout = durationpb.New(500 * time.Millisecond)
		}},
		{"hook-routes", "the VirtualService exported away from the gateway's namespace", hooksOverlay, func(t *testing.T, b *bundle) {
			virtualService(t, b, "wsgateway-hooks").Spec.ExportTo = []string{"app"}
		}},
		{"hook-routes", "Istio's default connect timeout of 10s", hooksOverlay, func(t *testing.T, b *bundle) {
			hookDestinationRule(t, b).Spec.TrafficPolicy.ConnectionPool.Tcp.ConnectTimeout = nil
		}},
		{"hook-routes", "the hooks moved to a backend with no route", hooksOverlay, func(t *testing.T, b *bundle) {
			editHooks(t, b, "chat.app.svc.cluster.local", "chat-v2.app.svc.cluster.local")
		}},
		{"mesh-hosts", "a hook DestinationRule for a host no hook calls", hooksOverlay, func(t *testing.T, b *bundle) {
			hookDestinationRule(t, b).Spec.Host = "chat.apps.svc.cluster.local"
		}},
		{"dependencies-reachable", "the Sidecar forgets the hook backend", hooksOverlay, func(t *testing.T, b *bundle) {
			b.sidecars[0].Spec.Egress[0].Hosts = slices.DeleteFunc(b.sidecars[0].Spec.Egress[0].Hosts, func(h string) bool { return strings.HasPrefix(h, "app/") })
		}},
		{"dependencies-reachable", "no egress to the hook backend's namespace", hooksOverlay, func(t *testing.T, b *bundle) {
			np := b.networkPolicies[0]
			np.Spec.Egress = np.Spec.Egress[:len(np.Spec.Egress)-1]
		}},
		{"hook-backend-authz", "the principal of another namespace's gateway", hooksOverlay, func(t *testing.T, b *bundle) {
			hookSource(t, b).NotPrincipals = []string{"cluster.local/ns/wsgateway-dev/sa/wsgateway"}
		}},
		{"hook-backend-authz", "every principal but the gateway allowed", hooksOverlay, func(t *testing.T, b *bundle) {
			hookAuthz(t, b).Spec.Action = securityv1beta1.AuthorizationPolicy_ALLOW
		}},
		{"hook-backend-authz", "paths that miss the hook path", hooksOverlay, func(t *testing.T, b *bundle) {
			hookAuthz(t, b).Spec.Rules[0].To[0].Operation.Paths = []string{"/hooks/*"}
		}},
		{"hook-backend-authz", "the policy in the gateway's namespace instead of the backend's", hooksOverlay, func(t *testing.T, b *bundle) {
			hookAuthz(t, b).Namespace = b.namespace
		}},
		{"hook-backend-authz", "the gateway runs under another ServiceAccount", hooksOverlay, func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.ServiceAccountName = "gateway"
		}},
	}
}

// hooksConfigMap returns the ConfigMap the gateway reads its hooks file from.
func hooksConfigMap(t *testing.T, b *bundle) *corev1.ConfigMap {
	t.Helper()
	file, err := b.hooksPath()
	if err != nil || file == "" {
		t.Fatalf("the gateway reads no hooks file (%v)", err)
	}
	cm, _, err := b.mountedConfigMap(file)
	if err != nil {
		t.Fatal(err)
	}
	return cm
}

// renameConfigMap renames a ConfigMap and the gateway's volume that mounts it.
func renameConfigMap(t *testing.T, b *bundle, cm *corev1.ConfigMap, name string) {
	t.Helper()
	for i := range b.gateway().Spec.Template.Spec.Volumes {
		if v := &b.gateway().Spec.Template.Spec.Volumes[i]; v.ConfigMap != nil && v.ConfigMap.Name == cm.Name {
			v.ConfigMap.Name = name
		}
	}
	cm.Name = name
}

// editHooks replaces old with new in the hooks file, and renames its ConfigMap with the new
// content's hash as kustomize would, so that only the edit is broken.
func editHooks(t *testing.T, b *bundle, old, new string) {
	t.Helper()
	cm := hooksConfigMap(t, b)
	for k, v := range cm.Data {
		if !strings.Contains(v, old) {
			t.Fatalf("hooks file %s has no %q", k, old)
		}
		cm.Data[k] = strings.ReplaceAll(v, old, new)
	}
	base := cm.Name[:strings.LastIndex(cm.Name, "-")]
	h, err := kustomizeHash(base, cm.Data)
	if err != nil {
		t.Fatal(err)
	}
	renameConfigMap(t, b, cm, base+"-"+h)
}

func hookDestinationRule(t *testing.T, b *bundle) *istionetworking.DestinationRule {
	t.Helper()
	for _, dr := range b.destinationRules {
		if dr.Name == "wsgateway-hooks" {
			return dr
		}
	}
	t.Fatal("no DestinationRule wsgateway-hooks")
	return nil
}

func hookAuthz(t *testing.T, b *bundle) *istiosecurity.AuthorizationPolicy {
	t.Helper()
	for _, p := range b.backendAuthz {
		if p.Name == "wsgateway-hooks" {
			return p
		}
	}
	t.Fatal("no AuthorizationPolicy wsgateway-hooks outside the gateway's namespace")
	return nil
}

func hookSource(t *testing.T, b *bundle) *securityv1beta1.Source {
	return hookAuthz(t, b).Spec.Rules[0].From[0].Source
}
