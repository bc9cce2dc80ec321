// Package k8s holds wsgateway's Kubernetes bundle (base/, overlays/, components/) and no code.
// Its tests render every overlay the way `kubectl apply -k` does, validate each object as
// strictly as an API server with Istio's CRDs installed would, and check the invariants whose
// breaking would cut connections in production: timeouts and retries on the WebSocket route,
// the shutdown budget, probes, selectors, hardening, memory. Each invariant is also shown to
// fail on a deliberately broken copy of the bundle.
package k8s
