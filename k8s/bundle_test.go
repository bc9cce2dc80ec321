package k8s

import (
	"encoding/json"
	"fmt"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	istiosecurity "istio.io/client-go/pkg/apis/security/v1"
	istiotelemetry "istio.io/client-go/pkg/apis/telemetry/v1"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
)

// gatewayName names the gateway's Deployment, Service, ConfigMap, container and the rest.
const gatewayName = "wsgateway"

// bundle is one rendered overlay, decoded into typed objects for the invariant checks. Tests
// break a copy by changing these fields.
type bundle struct {
	overlay   string
	namespace string
	objects   []object // every object, for the checks that apply to all

	deployments      []*appsv1.Deployment
	services         []*corev1.Service
	configMaps       []*corev1.ConfigMap
	hpas             []*autoscalingv2.HorizontalPodAutoscaler
	pdbs             []*policyv1.PodDisruptionBudget
	networkPolicies  []*networkingv1.NetworkPolicy
	istioGateways    []*istionetworking.Gateway
	virtualServices  []*istionetworking.VirtualService
	destinationRules []*istionetworking.DestinationRule
	sidecars         []*istionetworking.Sidecar
	peerAuths        []*istiosecurity.PeerAuthentication
	authzPolicies    []*istiosecurity.AuthorizationPolicy // in the gateway's namespace
	backendAuthz     []*istiosecurity.AuthorizationPolicy // in other namespaces: the hook backends'
	telemetries      []*istiotelemetry.Telemetry
	podMonitors      []*monitoringv1.PodMonitor
	scaledObjects    []*scaledObject // KEDA's
	serviceAccounts  []*corev1.ServiceAccount
}

// loadBundle renders an overlay and decodes it (leniently: validateObject is the strict part).
func loadBundle(t testing.TB, overlay string) *bundle {
	t.Helper()
	b := &bundle{overlay: overlay}
	for _, obj := range render(t, overlay) {
		o, err := b.add(obj)
		if err != nil {
			t.Fatalf("%s: %v", overlay, err)
		}
		b.objects = append(b.objects, object{kind: obj["kind"].(string), Object: o})
	}
	gw := b.deployment(gatewayName)
	if gw == nil {
		t.Fatalf("%s: no Deployment %s", overlay, gatewayName)
	}
	b.namespace = gw.Namespace
	// A policy in another namespace cannot apply to the gateway's pods: those are the examples
	// for the hook backends, which checkHookBackendAuthz reads.
	own := b.authzPolicies[:0:0]
	for _, p := range b.authzPolicies {
		if p.Namespace == b.namespace {
			own = append(own, p)
		} else {
			b.backendAuthz = append(b.backendAuthz, p)
		}
	}
	b.authzPolicies = own
	return b
}

// object is any object of the bundle, with its kind.
type object struct {
	kind string
	metav1.Object
}

// add decodes obj into the list for its kind, and returns its metadata.
func (b *bundle) add(obj map[string]any) (metav1.Object, error) {
	u := unstructured.Unstructured{Object: obj}
	var target metav1.Object
	switch u.GetKind() {
	case "Deployment":
		target = appendNew(&b.deployments)
	case "Service":
		target = appendNew(&b.services)
	case "ConfigMap":
		target = appendNew(&b.configMaps)
	case "HorizontalPodAutoscaler":
		target = appendNew(&b.hpas)
	case "PodDisruptionBudget":
		target = appendNew(&b.pdbs)
	case "NetworkPolicy":
		target = appendNew(&b.networkPolicies)
	case "Gateway":
		target = appendNew(&b.istioGateways)
	case "VirtualService":
		target = appendNew(&b.virtualServices)
	case "DestinationRule":
		target = appendNew(&b.destinationRules)
	case "Sidecar":
		target = appendNew(&b.sidecars)
	case "PeerAuthentication":
		target = appendNew(&b.peerAuths)
	case "AuthorizationPolicy":
		target = appendNew(&b.authzPolicies)
	case "Telemetry":
		target = appendNew(&b.telemetries)
	case "PodMonitor":
		target = appendNew(&b.podMonitors)
	case "ScaledObject":
		target = appendNew(&b.scaledObjects)
	case "ServiceAccount":
		target = appendNew(&b.serviceAccounts)
	default:
		return &u, nil
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, target); err != nil {
		return nil, fmt.Errorf("%s %s: %w", u.GetKind(), u.GetName(), err)
	}
	return target, nil
}

// appendNew appends a new zero object to *list and returns it.
func appendNew[T any, PT interface {
	*T
	metav1.Object
}](list *[]PT) PT {
	p := PT(new(T))
	*list = append(*list, p)
	return p
}

// deployment returns the Deployment called name, or nil.
func (b *bundle) deployment(name string) *appsv1.Deployment {
	for _, d := range b.deployments {
		if d.Name == name {
			return d
		}
	}
	return nil
}

// gateway returns the gateway's Deployment (loadBundle made sure there is one).
func (b *bundle) gateway() *appsv1.Deployment { return b.deployment(gatewayName) }

// gatewayContainer returns the gateway's container, or nil.
func (b *bundle) gatewayContainer() *corev1.Container {
	spec := &b.gateway().Spec.Template.Spec
	for i := range spec.Containers {
		if spec.Containers[i].Name == gatewayName {
			return &spec.Containers[i]
		}
	}
	return nil
}

// service returns the Service called name, or nil.
func (b *bundle) service(name string) *corev1.Service {
	for _, s := range b.services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// configMap returns the ConfigMap called name, or nil.
func (b *bundle) configMap(name string) *corev1.ConfigMap {
	for _, c := range b.configMaps {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// podTemplateOf returns the pod template of a workload object, or nil.
func podTemplateOf(obj runtime.Object) *corev1.PodTemplateSpec {
	switch o := obj.(type) {
	case *appsv1.Deployment:
		return &o.Spec.Template
	case *appsv1.StatefulSet:
		return &o.Spec.Template
	case *appsv1.DaemonSet:
		return &o.Spec.Template
	case *batchv1.Job:
		return &o.Spec.Template
	}
	return nil
}
