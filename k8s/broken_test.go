package k8s

import (
	"testing"

	istionetworking "istio.io/client-go/pkg/apis/networking/v1"
	corev1 "k8s.io/api/core/v1"
)

// brokenCopy is a deliberately broken copy of an overlay that one invariant must reject.
type brokenCopy struct {
	invariant string // the name in invariants
	name      string
	overlay   string
	breakIt   func(t *testing.T, b *bundle)
}

// TestInvariantsCatchBrokenCopies shows each invariant failing: on a fresh copy of the overlay
// it passes, and after the break it fails.
func TestInvariantsCatchBrokenCopies(t *testing.T) {
	cases := append(append(append(brokenMeshCases(), brokenPodCases()...), brokenHookCases()...), brokenInboxCases()...)
	checks := map[string]func(*bundle) error{}
	for _, inv := range invariants {
		checks[inv.name] = inv.check
	}
	tested := map[string]bool{}
	for _, c := range cases {
		check, ok := checks[c.invariant]
		if !ok {
			t.Fatalf("case %q: no invariant %q", c.name, c.invariant)
		}
		tested[c.invariant] = true
		t.Run(c.invariant+"/"+c.name, func(t *testing.T) {
			b := loadBundle(t, c.overlay)
			if err := check(b); err != nil {
				t.Fatalf("fails before the break: %v", err)
			}
			c.breakIt(t, b)
			err := check(b)
			if err == nil {
				t.Fatal("passes on the broken copy")
			}
			t.Logf("rejected as expected: %v", err)
		})
	}
	for _, inv := range invariants {
		if !tested[inv.name] {
			t.Errorf("invariant %s has no broken copy", inv.name)
		}
	}
}

// Helpers that find an object to break, failing the test when it is missing.

func virtualService(t *testing.T, b *bundle, name string) *istionetworking.VirtualService {
	t.Helper()
	for _, vs := range b.virtualServices {
		if vs.Name == name {
			return vs
		}
	}
	t.Fatalf("no VirtualService %s", name)
	return nil
}

func destinationRule(t *testing.T, b *bundle) *istionetworking.DestinationRule {
	t.Helper()
	dr, err := b.gatewayDestinationRule()
	if err != nil {
		t.Fatal(err)
	}
	return dr
}

// gatewayConfig returns the ConfigMap the gateway container reads its settings from.
func gatewayConfig(t *testing.T, b *bundle) *corev1.ConfigMap {
	t.Helper()
	for _, from := range b.gatewayContainer().EnvFrom {
		if from.ConfigMapRef != nil && b.configMap(from.ConfigMapRef.Name) != nil {
			return b.configMap(from.ConfigMapRef.Name)
		}
	}
	t.Fatal("the gateway reads no ConfigMap")
	return nil
}

// setEnv sets (or adds) a literal variable on the gateway container.
func setEnv(b *bundle, name, value string) {
	c := b.gatewayContainer()
	for i := range c.Env {
		if c.Env[i].Name == name {
			c.Env[i] = corev1.EnvVar{Name: name, Value: value}
			return
		}
	}
	c.Env = append(c.Env, corev1.EnvVar{Name: name, Value: value})
}

// servicePort returns the gateway Service's port called name.
func servicePort(t *testing.T, b *bundle, name string) *corev1.ServicePort {
	t.Helper()
	ports := b.service(gatewayName).Spec.Ports
	for i := range ports {
		if ports[i].Name == name {
			return &ports[i]
		}
	}
	t.Fatalf("Service %s has no port %s", gatewayName, name)
	return nil
}
