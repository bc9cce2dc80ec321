package k8s

import (
	"strings"
	"testing"

	"istio.io/api/annotation"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
)

// brokenPodCases break the workloads: shutdown, probes, ports, scaling, hardening, memory.
func brokenPodCases() []brokenCopy {
	proxyConfig := func(b *bundle, old, new string) {
		a := b.gateway().Spec.Template.Annotations
		a[annotation.ProxyConfig.Name] = strings.Replace(a[annotation.ProxyConfig.Name], old, new, 1)
	}
	return []brokenCopy{
		{"shutdown-budget", "Kubernetes' default grace period", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.TerminationGracePeriodSeconds = nil
		}},
		{"shutdown-budget", "a longer drain window in the ConfigMap alone", "prod", func(t *testing.T, b *bundle) {
			gatewayConfig(t, b).Data["WSG_DRAIN_WINDOW"] = "60s"
		}},
		{"shutdown-budget", "a drain delay set on the container, which wins over the ConfigMap", "dev", func(t *testing.T, b *bundle) {
			setEnv(b, "WSG_DRAIN_DELAY", "30s")
		}},
		{"shutdown-budget", "a longer preStop sleep", "prod", func(t *testing.T, b *bundle) {
			b.gatewayContainer().Lifecycle.PreStop.Sleep.Seconds = 30
		}},
		{"shutdown-budget", "the proxy's default 5s drain", "prod", func(t *testing.T, b *bundle) {
			delete(b.gateway().Spec.Template.Annotations, annotation.ProxyConfig.Name)
		}},
		{"shutdown-budget", "a proxy drain shorter than the app's", "dev", func(t *testing.T, b *bundle) {
			proxyConfig(b, "terminationDrainDuration: 40s", "terminationDrainDuration: 20s")
		}},
		{"shutdown-budget", "the app starting before its proxy", "prod", func(t *testing.T, b *bundle) {
			proxyConfig(b, "holdApplicationUntilProxyStarts: true", "holdApplicationUntilProxyStarts: false")
		}},
		{"probes", "readiness on /healthz", "prod", func(t *testing.T, b *bundle) {
			b.gatewayContainer().ReadinessProbe.HTTPGet.Path = "/healthz"
		}},
		{"probes", "liveness on the client port", "prod", func(t *testing.T, b *bundle) {
			b.gatewayContainer().LivenessProbe.HTTPGet.Port = intstr.FromInt32(8080)
		}},
		{"probes", "the admin listener moved, the probes not", "dev", func(t *testing.T, b *bundle) {
			gatewayConfig(t, b).Data["WSG_ADMIN_LISTEN"] = ":9091"
		}},
		{"service-ports", "a WebSocket port name Istio cannot read", "prod", func(t *testing.T, b *bundle) {
			p := servicePort(t, b, "http-ws")
			p.Name, p.AppProtocol = "ws", nil
		}},
		{"service-ports", "the WebSocket port declared as TCP", "prod", func(t *testing.T, b *bundle) {
			p := servicePort(t, b, "http-ws")
			p.Name, p.AppProtocol = "tcp-ws", ptr.To("tcp")
		}},
		{"service-ports", "a targetPort the pods lack", "prod", func(t *testing.T, b *bundle) {
			servicePort(t, b, "http-api").TargetPort = intstr.FromString("http-apis")
		}},
		{"service-ports", "a selector matching no pods", "dev", func(t *testing.T, b *bundle) {
			b.service(gatewayName).Spec.Selector = map[string]string{"app": gatewayName}
		}},
		{"disruption-budget", "a budget selecting no pods", "prod", func(t *testing.T, b *bundle) {
			b.pdbs[0].Spec.Selector.MatchLabels = map[string]string{"app.kubernetes.io/name": "ws-gateway"}
		}},
		{"disruption-budget", "a budget that allows no eviction", "dev", func(t *testing.T, b *bundle) {
			b.pdbs[0].Spec.MaxUnavailable = ptr.To(intstr.FromInt32(0))
		}},
		{"autoscaler", "replicas on a Deployment the HPA scales", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Replicas = ptr.To[int32](3)
		}},
		{"autoscaler", "an HPA scaling a Deployment not in the bundle", "prod", func(t *testing.T, b *bundle) {
			b.hpas[0].Spec.ScaleTargetRef.Name = "ws-gateway"
		}},
		{"autoscaler", "fast scale-down", "prod", func(t *testing.T, b *bundle) {
			b.hpas[0].Spec.Behavior.ScaleDown.Policies = []autoscalingv2.HPAScalingPolicy{{Type: autoscalingv2.PercentScalingPolicy, Value: 100, PeriodSeconds: 15}}
		}},
		{"autoscaler", "CPU only", "prod", func(t *testing.T, b *bundle) {
			b.hpas[0].Spec.Metrics = b.hpas[0].Spec.Metrics[1:]
		}},
		{"autoscaler", "a connection target above half of --max-connections", "prod", func(t *testing.T, b *bundle) {
			b.hpas[0].Spec.Metrics[0].Pods.Target.AverageValue = ptr.To(resource.MustParse("60k"))
		}},
		{"autoscaler", "--max-connections lowered, the HPA's target not", "prod", func(t *testing.T, b *bundle) {
			gatewayConfig(t, b).Data["WSG_MAX_CONNECTIONS"] = "80000"
		}},
		{"security-context", "a writable root file system", "prod", func(t *testing.T, b *bundle) {
			b.gatewayContainer().SecurityContext.ReadOnlyRootFilesystem = ptr.To(false)
		}},
		{"security-context", "root", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.SecurityContext.RunAsUser = ptr.To[int64](0)
		}},
		{"security-context", "an added capability", "dev", func(t *testing.T, b *bundle) {
			b.deployment("redis").Spec.Template.Spec.Containers[0].SecurityContext.Capabilities.Add = []corev1.Capability{"NET_ADMIN"}
		}},
		{"security-context", "seccomp unconfined", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.SecurityContext.SeccompProfile.Type = corev1.SeccompProfileTypeUnconfined
		}},
		{"security-context", "a mounted service account token", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.AutomountServiceAccountToken = nil
		}},
		{"resources", "no memory limit", "prod", func(t *testing.T, b *bundle) {
			delete(b.gatewayContainer().Resources.Limits, corev1.ResourceMemory)
		}},
		{"resources", "a request above the limit", "dev", func(t *testing.T, b *bundle) {
			b.gatewayContainer().Resources.Requests[corev1.ResourceCPU] = resource.MustParse("4")
		}},
		{"memory-limit", "GOMEMLIMIT at the limit", "prod", func(t *testing.T, b *bundle) {
			setEnv(b, "GOMEMLIMIT", "4GiB")
		}},
		{"memory-limit", "more connections than the memory holds", "dev", func(t *testing.T, b *bundle) {
			gatewayConfig(t, b).Data["WSG_MAX_CONNECTIONS"] = "100000"
		}},
		{"memory-limit", "GOMEMLIMIT in a unit Go does not read", "prod", func(t *testing.T, b *bundle) {
			setEnv(b, "GOMEMLIMIT", "3.5GB")
		}},
		{"images", "latest", "prod", func(t *testing.T, b *bundle) {
			b.gatewayContainer().Image = "registry.example.com/wsgateway:latest"
		}},
		{"images", "no tag behind a registry port", "dev", func(t *testing.T, b *bundle) {
			b.gatewayContainer().Image = "localhost:5000/wsgateway"
		}},
		{"topology-spread", "no zone spread", "prod", func(t *testing.T, b *bundle) {
			spec := &b.gateway().Spec.Template.Spec
			spec.TopologySpreadConstraints = spec.TopologySpreadConstraints[1:]
		}},
		{"topology-spread", "two zone rules, as a careless strategic merge makes", "prod", func(t *testing.T, b *bundle) {
			spec := &b.gateway().Spec.Template.Spec
			spec.TopologySpreadConstraints = append(spec.TopologySpreadConstraints, spec.TopologySpreadConstraints[0])
		}},
		{"topology-spread", "a hard zone spread that counts cordoned nodes", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.TopologySpreadConstraints[0].NodeTaintsPolicy = nil
		}},
		{"topology-spread", "a hard zone spread that needs three zones", "prod", func(t *testing.T, b *bundle) {
			b.gateway().Spec.Template.Spec.TopologySpreadConstraints[0].MinDomains = ptr.To[int32](3)
		}},
		{"labels", "an object without part-of", "prod", func(t *testing.T, b *bundle) {
			delete(b.service(gatewayName).Labels, "app.kubernetes.io/part-of")
		}},
	}
}
