package k8s

import (
	"errors"
	"fmt"
	"time"

	"istio.io/api/annotation"
	corev1 "k8s.io/api/core/v1"
)

// Shutdown constants, from docs/operations.md ("Draining and rollouts").
const (
	// closeHandshakes is how long the gateway waits for close handshakes after its last close.
	closeHandshakes = 10 * time.Second
	// shutdownMargin is what the grace period must leave beyond preStop + drain delay + drain
	// window: the close handshakes and 5 s of slack.
	shutdownMargin = closeHandshakes + 5*time.Second
)

// checkShutdownBudget: the kubelet's grace period covers preStop, the drain delay, the drain
// window (read from the ConfigMap) and the margin; the sidecar outlives the application's
// drain (Envoy's own drain does not close upgraded WebSockets, so the app's close frames need
// the proxy) and fits in the grace period; the app waits for its proxy at startup.
func checkShutdownBudget(b *bundle) error {
	env, external, err := b.gatewayEnv()
	if err != nil {
		return err
	}
	delay, err1 := durationSetting(env, external, "WSG_DRAIN_DELAY")
	window, err2 := durationSetting(env, external, "WSG_DRAIN_WINDOW")
	preStop, err3 := preStopDuration(b.gatewayContainer())
	if err := errors.Join(err1, err2, err3); err != nil {
		return err
	}
	pod := b.gateway().Spec.Template
	grace := 30 * time.Second // Kubernetes' default
	if g := pod.Spec.TerminationGracePeriodSeconds; g != nil {
		grace = time.Duration(*g) * time.Second
	}
	drained := preStop + delay + window // the last close frame is sent by then
	var errs []error
	if need := drained + shutdownMargin; grace < need {
		errs = append(errs, fmt.Errorf("terminationGracePeriodSeconds %s < preStop %s + WSG_DRAIN_DELAY %s + WSG_DRAIN_WINDOW %s + margin %s = %s: the kubelet would SIGKILL pods mid-drain",
			grace, preStop, delay, window, shutdownMargin, need))
	}
	return errors.Join(append(errs, proxyDrainProblems(pod.Annotations, drained, grace)...)...)
}

// proxyDrainProblems checks the sidecar's shutdown settings: it must outlive the app's drain
// (which ends at drained, plus the close handshakes) and fit in the grace period.
func proxyDrainProblems(annotations map[string]string, drained, grace time.Duration) []error {
	raw, ok := annotations[annotation.ProxyConfig.Name]
	if !ok {
		return []error{fmt.Errorf("no %s annotation: the proxy's drain would be Istio's default 5s", annotation.ProxyConfig.Name)}
	}
	pc, err := parseProxyConfig(raw)
	if err != nil {
		return []error{err}
	}
	var errs []error
	proxyDrain := pc.GetTerminationDrainDuration().AsDuration()
	if need := drained + closeHandshakes; proxyDrain < need {
		errs = append(errs, fmt.Errorf("proxy terminationDrainDuration %s < preStop + drain delay + drain window + close handshakes = %s: a classic sidecar would exit while the app still closes WebSockets",
			proxyDrain, need))
	}
	if proxyDrain > grace {
		errs = append(errs, fmt.Errorf("proxy terminationDrainDuration %s > terminationGracePeriodSeconds %s", proxyDrain, grace))
	}
	if !pc.GetHoldApplicationUntilProxyStarts().GetValue() {
		errs = append(errs, fmt.Errorf("proxy holdApplicationUntilProxyStarts is not true: the app's first Redis connection may fail before the proxy is up"))
	}
	return errs
}

// preStopDuration is how long a container's preStop hook delays SIGTERM: a sleep's length, or
// zero without a hook. Other hooks take an unknown time, which the budget cannot check.
func preStopDuration(c *corev1.Container) (time.Duration, error) {
	if c.Lifecycle == nil || c.Lifecycle.PreStop == nil {
		return 0, nil
	}
	if s := c.Lifecycle.PreStop.Sleep; s != nil {
		return time.Duration(s.Seconds) * time.Second, nil
	}
	return 0, fmt.Errorf("container %s: a preStop hook other than sleep takes an unknown time; use sleep", c.Name)
}
