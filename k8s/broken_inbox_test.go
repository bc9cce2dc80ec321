package k8s

import (
	"slices"
	"testing"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	corev1 "k8s.io/api/core/v1"
)

// inboxOverlay is the overlay that includes k8s/components/inbox-worker.
const inboxOverlay = "inbox-example"

// brokenInboxCases break the inbox-worker component: the ScaledObject, the worker's Redis
// credentials, its scraping and its access to the gateway's API.
func brokenInboxCases() []brokenCopy {
	so := func(t *testing.T, b *bundle) *scaledObject {
		if len(b.scaledObjects) == 0 {
			t.Fatal("no ScaledObject")
		}
		return b.scaledObjects[0]
	}
	worker := func(t *testing.T, b *bundle) *corev1.PodTemplateSpec {
		d := b.deployment("orders-worker")
		if d == nil {
			t.Fatal("no Deployment orders-worker")
		}
		return &d.Spec.Template
	}
	n := func(v int32) *int32 { return &v }
	return []brokenCopy{
		{"inbox-workers", "scale to zero", inboxOverlay, func(t *testing.T, b *bundle) {
			so(t, b).Spec.MinReplicaCount = n(0)
		}},
		{"inbox-workers", "more workers than partitions", inboxOverlay, func(t *testing.T, b *bundle) {
			so(t, b).Spec.MaxReplicaCount = n(32)
		}},
		{"inbox-workers", "the lag of another topic", inboxOverlay, func(t *testing.T, b *bundle) {
			so(t, b).Spec.Triggers[0].Metadata["query"] =
				`max(wsgateway_inbox_lag_messages{job="wsgateway", namespace="wsgateway", topic="payments"})`
		}},
		{"inbox-workers", "the lag summed over the gateway pods", inboxOverlay, func(t *testing.T, b *bundle) {
			so(t, b).Spec.Triggers[0].Metadata["query"] =
				`sum(wsgateway_inbox_lag_messages{job="wsgateway", namespace="wsgateway", topic="orders"})`
		}},
		{"inbox-workers", "a target that is not in the bundle", inboxOverlay, func(t *testing.T, b *bundle) {
			so(t, b).Spec.ScaleTargetRef.Name = "order-worker"
		}},
		{"inbox-workers", "replicas on the scaled Deployment", inboxOverlay, func(t *testing.T, b *bundle) {
			b.deployment("orders-worker").Spec.Replicas = n(2)
		}},
		{"inbox-workers", "the worker on the gateway's Redis credentials", inboxOverlay, func(t *testing.T, b *bundle) {
			env := worker(t, b).Spec.Containers[0].Env
			for i := range env {
				if env[i].Name == "WSG_REDIS_URL" {
					env[i].ValueFrom.SecretKeyRef.Name = gatewayName
				}
			}
		}},
		{"inbox-workers", "no PodMonitor for the workers", inboxOverlay, func(t *testing.T, b *bundle) {
			b.podMonitors = slices.DeleteFunc(b.podMonitors, func(p *monitoringv1.PodMonitor) bool { return p.Name == "wsgateway-worker" })
		}},
		{"inbox-workers", "the worker's principal left out of the API rule", inboxOverlay, func(t *testing.T, b *bundle) {
			for _, p := range b.authzPolicies {
				for _, r := range p.Spec.Rules {
					for _, f := range r.From {
						s := f.GetSource()
						s.Principals = slices.DeleteFunc(s.Principals, func(p string) bool {
							return p == "cluster.local/ns/wsgateway/sa/orders-worker"
						})
					}
				}
			}
		}},
		{"inbox-workers", "no egress to the gateway's API", inboxOverlay, func(t *testing.T, b *bundle) {
			for _, np := range b.networkPolicies {
				if np.Name == "wsgateway-worker" {
					np.Spec.Egress = np.Spec.Egress[:len(np.Spec.Egress)-1]
				}
			}
		}},
	}
}
