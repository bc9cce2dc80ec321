package k8s

import (
	"testing"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/wrapperspb"
	networkingv1alpha3 "istio.io/api/networking/v1alpha3"
	securityv1beta1 "istio.io/api/security/v1beta1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// brokenMeshCases break the mesh policy, the routes and what the pods reach.
func brokenMeshCases() []brokenCopy {
	ws := func(t *testing.T, b *bundle) *networkingv1alpha3.HTTPRoute {
		return virtualService(t, b, "wsgateway-ws").Spec.Http[0]
	}
	return []brokenCopy{
		{"websocket-routes", "a timeout on the WebSocket route", "prod", func(t *testing.T, b *bundle) {
			ws(t, b).Timeout = durationpb.New(time.Hour)
		}},
		{"websocket-routes", "retries on 5xx, after the upgrade reached the app", "prod", func(t *testing.T, b *bundle) {
			ws(t, b).Retries.RetryOn = "connect-failure,5xx"
		}},
		{"websocket-routes", "a per-try timeout", "prod", func(t *testing.T, b *bundle) {
			ws(t, b).Retries.PerTryTimeout = durationpb.New(3 * time.Second)
		}},
		{"websocket-routes", "no retries, so Istio's default policy", "dev", func(t *testing.T, b *bundle) {
			ws(t, b).Retries = nil
		}},
		{"websocket-routes", "the API route sent to the WebSocket port with its timeout", "prod", func(t *testing.T, b *bundle) {
			virtualService(t, b, "wsgateway-api").Spec.Http[0].Route[0].Destination.Port.Number = 8080
		}},
		{"websocket-routes", "no route from the ingress gateway", "prod", func(t *testing.T, b *bundle) {
			virtualService(t, b, "wsgateway-ws").Spec.Gateways = []string{"mesh"}
		}},
		{"destination-rule", "round robin leaves new pods empty", "prod", func(t *testing.T, b *bundle) {
			destinationRule(t, b).Spec.TrafficPolicy.LoadBalancer.LbPolicy = &networkingv1alpha3.LoadBalancerSettings_Simple{Simple: networkingv1alpha3.LoadBalancerSettings_ROUND_ROBIN}
		}},
		{"destination-rule", "WebSockets upgraded to HTTP/2 upstream", "prod", func(t *testing.T, b *bundle) {
			destinationRule(t, b).Spec.TrafficPolicy.ConnectionPool.Http.H2UpgradePolicy = networkingv1alpha3.ConnectionPoolSettings_HTTPSettings_UPGRADE
		}},
		{"destination-rule", "a connection cap below one pod's connections", "prod", func(t *testing.T, b *bundle) {
			destinationRule(t, b).Spec.TrafficPolicy.ConnectionPool.Tcp.MaxConnections = 1024
		}},
		{"locality-failover", "no outlier detection", "prod", func(t *testing.T, b *bundle) {
			destinationRule(t, b).Spec.TrafficPolicy.OutlierDetection = nil
		}},
		{"locality-failover", "port-level settings with locality but no outlier detection", "dev", func(t *testing.T, b *bundle) {
			tp := destinationRule(t, b).Spec.TrafficPolicy
			tp.PortLevelSettings = append(tp.PortLevelSettings, &networkingv1alpha3.TrafficPolicy_PortTrafficPolicy{
				Port:         &networkingv1alpha3.PortSelector{Number: 8080},
				LoadBalancer: &networkingv1alpha3.LoadBalancerSettings{LocalityLbSetting: &networkingv1alpha3.LocalityLoadBalancerSetting{Enabled: wrapperspb.Bool(true)}},
			})
		}},
		{"mesh-selectors", "an AuthorizationPolicy selecting no pods", "prod", func(t *testing.T, b *bundle) {
			b.authzPolicies[0].Spec.Selector.MatchLabels = map[string]string{"app": "wsgateway"}
		}},
		{"mesh-selectors", "a Sidecar selecting no pods", "prod", func(t *testing.T, b *bundle) {
			b.sidecars[0].Spec.WorkloadSelector.Labels = map[string]string{"app.kubernetes.io/name": "ws-gateway"}
		}},
		{"mesh-selectors", "an AuthorizationPolicy naming a port the gateway does not use", "prod", func(t *testing.T, b *bundle) {
			b.authzPolicies[0].Spec.Rules[0].To[0].Operation.Ports = []string{"8800"}
		}},
		{"mesh-selectors", "a NetworkPolicy selecting no pods", "dev", func(t *testing.T, b *bundle) {
			b.networkPolicies[0].Spec.PodSelector = metav1.LabelSelector{MatchLabels: map[string]string{"app": "wsgateway"}}
		}},
		{"mesh-hosts", "a DestinationRule for a misspelled host", "prod", func(t *testing.T, b *bundle) {
			destinationRule(t, b).Spec.Host = "wsgateway.other-namespace.svc.cluster.local"
		}},
		{"mesh-hosts", "a route to a port the Service lacks", "prod", func(t *testing.T, b *bundle) {
			virtualService(t, b, "wsgateway-api").Spec.Http[0].Route[0].Destination.Port.Number = 8082
		}},
		{"mesh-hosts", "a route bound to a Gateway not in the bundle", "prod", func(t *testing.T, b *bundle) {
			virtualService(t, b, "wsgateway-ws").Spec.Gateways = []string{"istio-system/ingress"}
		}},
		{"mesh-hosts", "a host the Gateway does not serve", "prod", func(t *testing.T, b *bundle) {
			virtualService(t, b, "wsgateway-ws").Spec.Hosts = []string{"ws.example.org"}
		}},
		{"dependencies-reachable", "Redis moved to a namespace the policies do not name", "prod", func(t *testing.T, b *bundle) {
			gatewayConfig(t, b).Data["WSG_REDIS_URL"] = "redis-sentinel://sentinel.cache:26379/mymaster"
		}},
		{"dependencies-reachable", "the Sidecar forgets Redis's namespace", "prod", func(t *testing.T, b *bundle) {
			b.sidecars[0].Spec.Egress[0].Hosts = []string{"./*", "istio-system/*", "observability/*"}
		}},
		{"dependencies-reachable", "no DNS in the NetworkPolicy", "dev", func(t *testing.T, b *bundle) {
			b.networkPolicies[0].Spec.Egress = b.networkPolicies[0].Spec.Egress[1:]
		}},
		{"metrics-scrapable", "STRICT mTLS on the admin port, scraped in plain HTTP", "prod", func(t *testing.T, b *bundle) {
			b.peerAuths[0].Spec.PortLevelMtls = nil
		}},
		{"metrics-scrapable", "the metrics rule asks for an identity plain HTTP lacks", "prod", func(t *testing.T, b *bundle) {
			rules := b.authzPolicies[0].Spec.Rules
			rules[len(rules)-1].From = []*securityv1beta1.Rule_From{{Source: &securityv1beta1.Source{Namespaces: []string{"monitoring"}}}}
		}},
		{"metrics-scrapable", "the PodMonitor names a port the pods lack", "prod", func(t *testing.T, b *bundle) {
			port := "metrics"
			b.podMonitors[0].Spec.PodMetricsEndpoints[0].Port = &port
		}},
		{"metrics-scrapable", "the admin port open to every namespace", "prod", func(t *testing.T, b *bundle) {
			for i, rule := range b.networkPolicies[0].Spec.Ingress {
				if portsAllow(rule.Ports, 9090, "TCP") {
					b.networkPolicies[0].Spec.Ingress[i].From = []networkingv1.NetworkPolicyPeer{{NamespaceSelector: &metav1.LabelSelector{}}}
				}
			}
		}},
	}
}
