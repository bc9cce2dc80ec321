package k8s

import (
	"strings"
	"testing"
)

// TestValidationCatchesBrokenObjects shows validateObject refusing what an API server (with
// Istio's CRDs) would refuse, and what it would silently drop.
func TestValidationCatchesBrokenObjects(t *testing.T) {
	cases := []struct {
		name      string
		kind, obj string
		breakIt   func(o map[string]any)
		wantInErr string
	}{
		{"a misspelled Deployment field", "Deployment", "wsgateway", func(o map[string]any) {
			podSpec(o)["terminationGracePeriodSecond"] = int64(60)
		}, `unknown field "spec.template.spec.terminationGracePeriodSecond"`},
		{"a wrong-case container field", "Deployment", "wsgateway", func(o map[string]any) {
			container(o)["imagepullPolicy"] = "Always"
		}, `unknown field "spec.template.spec.containers[0].imagepullPolicy"`},
		{"a string where a number goes", "Service", "wsgateway", func(o map[string]any) {
			at(o, "spec", "ports").([]any)[0].(map[string]any)["port"] = "8080"
		}, "cannot unmarshal string"},
		{"an invalid label value", "ConfigMap", "", func(o map[string]any) {
			at(o, "metadata", "labels").(map[string]any)["app.kubernetes.io/name"] = "-wsgateway"
		}, "metadata.labels"},
		{"a misspelled Istio annotation", "Deployment", "wsgateway", func(o map[string]any) {
			at(o, "spec", "template", "metadata", "annotations").(map[string]any)["proxy.istio.io/confg"] = "{}"
		}, "proxy.istio.io/confg is not an Istio label or annotation"},
		{"an unknown proxy setting", "Deployment", "wsgateway", func(o map[string]any) {
			at(o, "spec", "template", "metadata", "annotations").(map[string]any)["proxy.istio.io/config"] = "terminationDrainDurations: 50s\n"
		}, "terminationDrainDurations"},
		{"timeout: 0s on a route (the CRD's CEL rule)", "VirtualService", "wsgateway-ws", func(o map[string]any) {
			route(o)["timeout"] = "0s"
		}, "timeout"},
		{"http.idleTimeout: 0s (the CRD's CEL rule)", "DestinationRule", "wsgateway", func(o map[string]any) {
			at(o, "spec", "trafficPolicy", "connectionPool", "http").(map[string]any)["idleTimeout"] = "0s"
		}, "idleTimeout"},
		{"an unknown field in a VirtualService", "VirtualService", "wsgateway-ws", func(o map[string]any) {
			route(o)["retry"] = map[string]any{"attempts": int64(3)}
		}, `unknown field`},
		{"a misspelled enum value", "DestinationRule", "wsgateway", func(o map[string]any) {
			at(o, "spec", "trafficPolicy", "loadBalancer").(map[string]any)["simple"] = "LEAST_REQUESTS"
		}, "LEAST_REQUESTS"},
		{"a wrong-case Istio field", "AuthorizationPolicy", "wsgateway", func(o map[string]any) {
			spec := at(o, "spec").(map[string]any)
			spec["Action"] = spec["action"]
			delete(spec, "action")
		}, "Action"},
		{"an unknown PodMonitor field", "PodMonitor", "wsgateway", func(o map[string]any) {
			at(o, "spec", "podMetricsEndpoints").([]any)[0].(map[string]any)["intervall"] = "15s"
		}, `unknown field "spec.podMetricsEndpoints[0].intervall"`},
		{"a misspelled ScaledObject field (KEDA's CRD)", "ScaledObject", "orders-worker", func(o map[string]any) {
			at(o, "spec").(map[string]any)["maxReplicas"] = int64(16)
		}, "spec.maxReplicas: Forbidden: unknown field"},
		{"a string where KEDA wants a number", "ScaledObject", "orders-worker", func(o map[string]any) {
			at(o, "spec").(map[string]any)["minReplicaCount"] = "1"
		}, "spec.minReplicaCount"},
		{"a ScaledObject without its target (KEDA's CRD)", "ScaledObject", "orders-worker", func(o map[string]any) {
			delete(at(o, "spec").(map[string]any), "scaleTargetRef")
		}, "scaleTargetRef"},
		{"a kind the tests cannot check", "Service", "wsgateway", func(o map[string]any) {
			o["apiVersion"] = "example.com/v1"
		}, "no validator"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			overlay := "prod"
			if c.kind == "ScaledObject" {
				overlay = inboxOverlay
			}
			obj := find(t, render(t, overlay), c.kind, c.obj)
			if err := validateObject(obj); err != nil {
				t.Fatalf("fails before the break: %v", err)
			}
			c.breakIt(obj)
			err := validateObject(obj)
			if err == nil || !strings.Contains(err.Error(), c.wantInErr) {
				t.Fatalf("got error %v, want one mentioning %q", err, c.wantInErr)
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
}

// find returns the rendered object of a kind with a name ("" for the first of its kind).
func find(t *testing.T, objects []map[string]any, kind, name string) map[string]any {
	t.Helper()
	for _, o := range objects {
		if o["kind"] == kind && (name == "" || at(o, "metadata", "name") == name) {
			return o
		}
	}
	t.Fatalf("no %s %q", kind, name)
	return nil
}

// at walks maps by key.
func at(o map[string]any, keys ...string) any {
	var v any = o
	for _, k := range keys {
		v = v.(map[string]any)[k]
	}
	return v
}

func podSpec(o map[string]any) map[string]any {
	return at(o, "spec", "template", "spec").(map[string]any)
}

func container(o map[string]any) map[string]any {
	return podSpec(o)["containers"].([]any)[0].(map[string]any)
}

func route(o map[string]any) map[string]any {
	return at(o, "spec", "http").([]any)[0].(map[string]any)
}
