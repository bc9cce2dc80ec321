package k8s

import (
	"cmp"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
)

// defaultInboxPartitions is the gateway's --inbox-partitions default (docs/streams.md): a
// topic's partition count when the bundle does not set WSG_INBOX_PARTITIONS.
const defaultInboxPartitions = 16

// lagMetric is the gateway's per-topic lag gauge, which the ScaledObjects scale on.
const lagMetric = "wsgateway_inbox_lag_messages"

// topicArg reads a worker's topic from its --topic argument (examples/worker's flag).
var topicArg = regexp.MustCompile(`^--?topic[= ](\S+)$`)

// workerTopic returns the topic a Deployment's containers consume, or "" for a Deployment that
// is not an inbox worker.
func workerTopic(d *appsv1.Deployment) (topic string, c *corev1.Container) {
	for i := range d.Spec.Template.Spec.Containers {
		c := &d.Spec.Template.Spec.Containers[i]
		for _, a := range c.Args {
			if m := topicArg.FindStringSubmatch(a); m != nil {
				return m[1], c
			}
		}
	}
	return "", nil
}

// checkInboxWorkers: each KEDA ScaledObject scales an inbox worker Deployment of the bundle that
// sets no replicas of its own, between 1 (never 0: with no worker the gateway refuses sends
// instead of queueing the messages that would wake one) and the topic's partition count (a
// worker beyond one per partition idles), on the gateway's lag gauge for that worker's topic in
// the bundle's namespace. Each worker reads Redis with a Secret of its own (its ACL user, never
// the gateway's), is scraped by a PodMonitor, and may call the gateway's API: its service
// account is admitted to the API port by the gateway's AuthorizationPolicy and its NetworkPolicy
// lets it reach that port.
func checkInboxWorkers(b *bundle) error {
	env, external, err := b.gatewayEnv()
	if err != nil {
		return err
	}
	partitions := int64(defaultInboxPartitions)
	if _, ok := env["WSG_INBOX_PARTITIONS"]; ok {
		if partitions, err = intSetting(env, external, "WSG_INBOX_PARTITIONS"); err != nil {
			return err
		}
	}
	var errs []error
	for _, so := range b.scaledObjects {
		errs = append(errs, b.scaledObjectProblems(so, partitions)...)
	}
	for _, d := range b.deployments {
		if topic, c := workerTopic(d); topic != "" {
			errs = append(errs, b.workerProblems(d, c)...)
		}
	}
	return errors.Join(errs...)
}

func (b *bundle) scaledObjectProblems(so *scaledObject, partitions int64) []error {
	where := "ScaledObject " + so.Name
	ref := so.Spec.ScaleTargetRef
	d := b.deployment(ref.Name)
	if kind := cmp.Or(ref.Kind, "Deployment"); kind != "Deployment" || d == nil {
		return []error{fmt.Errorf("%s scales %s %q, which is no Deployment of the bundle", where, kind, ref.Name)}
	}
	topic, _ := workerTopic(d)
	if topic == "" {
		return []error{fmt.Errorf("%s scales Deployment %s, which runs no inbox worker (no --topic)", where, d.Name)}
	}
	var errs []error
	if d.Spec.Replicas != nil {
		errs = append(errs, fmt.Errorf("Deployment %s sets replicas: every apply would fight %s's autoscaler", d.Name, where))
	}
	if m := so.Spec.MinReplicaCount; m == nil || *m < 1 {
		errs = append(errs, fmt.Errorf("%s: minReplicaCount %v, want at least 1: with no worker the gateway answers "+
			"sends to %s with unavailable after --inbox-no-worker, so the lag that should wake one never comes", where, deref(m), topic))
	}
	if m := so.Spec.MaxReplicaCount; m == nil || int64(*m) > partitions {
		errs = append(errs, fmt.Errorf("%s: maxReplicaCount %v, want at most the topic's %d partitions: "+
			"a worker beyond one per partition holds no lease", where, deref(m), partitions))
	}
	want := []string{lagMetric, fmt.Sprintf(`topic="%s"`, topic), fmt.Sprintf(`namespace="%s"`, b.namespace)}
	lagTriggers := 0
	for _, tr := range so.Spec.Triggers {
		q := tr.Metadata["query"]
		if tr.Type != "prometheus" || !strings.Contains(q, lagMetric) {
			continue
		}
		lagTriggers++
		for _, w := range want {
			if !strings.Contains(q, w) {
				errs = append(errs, fmt.Errorf("%s: the lag query %q lacks %s (the worker consumes topic %s in namespace %s)",
					where, q, w, topic, b.namespace))
			}
		}
		if !strings.HasPrefix(strings.TrimSpace(q), "max(") && !strings.HasPrefix(strings.TrimSpace(q), "max (") {
			errs = append(errs, fmt.Errorf("%s: the lag query %q must take the max over the gateway pods, which all "+
				"report the same topic's lag", where, q))
		}
	}
	if lagTriggers != 1 {
		errs = append(errs, fmt.Errorf("%s has %d prometheus triggers on %s, want 1", where, lagTriggers, lagMetric))
	}
	return errs
}

func deref(p *int32) any {
	if p == nil {
		return "unset"
	}
	return *p
}

func (b *bundle) workerProblems(d *appsv1.Deployment, c *corev1.Container) []error {
	where := "worker Deployment " + d.Name
	var errs []error
	redisFromOwnSecret := false
	for _, e := range c.Env {
		if e.Name == "WSG_REDIS_URL" && e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil &&
			e.ValueFrom.SecretKeyRef.Name != gatewayName {
			redisFromOwnSecret = true
		}
	}
	if !redisFromOwnSecret {
		errs = append(errs, fmt.Errorf("%s: WSG_REDIS_URL must come from a Secret of its own (the worker's Redis ACL "+
			"user, limited to its topic's keys), not the gateway's", where))
	}
	pod := d.Spec.Template
	scraped := false
	for _, pm := range b.podMonitors {
		if !selects(&pm.Spec.Selector, pod.Labels) {
			continue
		}
		for _, ep := range pm.Spec.PodMetricsEndpoints {
			if ep.Port != nil && slices.ContainsFunc(c.Ports, func(p corev1.ContainerPort) bool { return p.Name == *ep.Port }) {
				scraped = true
			}
		}
	}
	if !scraped {
		errs = append(errs, fmt.Errorf("%s: no PodMonitor scrapes a port of its pods (the dead-letter alert reads its metrics)", where))
	}
	api, err := b.ports()
	if err != nil {
		return append(errs, err)
	}
	principal := fmt.Sprintf("cluster.local/ns/%s/sa/%s", b.namespace, pod.Spec.ServiceAccountName)
	if pod.Spec.ServiceAccountName == "" || !b.authzAdmits(principal, api.api) {
		errs = append(errs, fmt.Errorf("%s: the gateway's AuthorizationPolicy does not admit %s to the API port %d "+
			"(replies and publishes)", where, principal, api.api))
	}
	if !b.egressToGateway(pod.Labels, api.api) {
		errs = append(errs, fmt.Errorf("%s: a NetworkPolicy selecting its pods does not let them reach the gateway's API port %d",
			where, api.api))
	}
	return errs
}

// authzAdmits reports whether an ALLOW rule of the gateway's AuthorizationPolicies admits
// principal to port.
func (b *bundle) authzAdmits(principal string, port int32) bool {
	for _, p := range b.authzPolicies {
		if p.Spec.Action.String() != "ALLOW" {
			continue
		}
		for _, r := range p.Spec.Rules {
			if !ruleCoversPort(r, port) {
				continue
			}
			for _, f := range r.From {
				if slices.Contains(f.GetSource().GetPrincipals(), principal) {
					return true
				}
			}
		}
	}
	return false
}

// egressToGateway reports whether pods with lbls may reach the gateway's pods on port: every
// NetworkPolicy selecting them for egress must allow it (one without egress rules for them
// leaves egress open).
func (b *bundle) egressToGateway(lbls map[string]string, port int32) bool {
	gw := b.gateway().Spec.Template.Labels
	for _, np := range b.networkPolicies {
		if !selects(&np.Spec.PodSelector, lbls) || !hasPolicyType(np, "Egress") {
			continue
		}
		ok := false
		for _, r := range np.Spec.Egress {
			if !portsAllow(r.Ports, port, corev1.ProtocolTCP) {
				continue
			}
			for _, peer := range r.To {
				if peer.NamespaceSelector == nil && peer.PodSelector != nil && selects(peer.PodSelector, gw) {
					ok = true
				}
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
