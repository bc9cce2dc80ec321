package k8s

import "testing"

// invariant is one property of a rendered overlay whose breaking cuts connections in
// production, or lets a policy quietly stop applying.
type invariant struct {
	name  string
	check func(*bundle) error
}

// invariants are checked on every overlay; broken_test.go shows each failing on a broken copy.
var invariants = []invariant{
	{"websocket-routes", checkWebSocketRoutes},
	{"destination-rule", checkDestinationRule},
	{"locality-failover", checkLocalityFailover},
	{"shutdown-budget", checkShutdownBudget},
	{"probes", checkProbes},
	{"service-ports", checkServicePorts},
	{"mesh-selectors", checkMeshSelectors},
	{"mesh-hosts", checkMeshHosts},
	{"disruption-budget", checkDisruptionBudget},
	{"autoscaler", checkAutoscaler},
	{"security-context", checkSecurityContext},
	{"resources", checkResources},
	{"memory-limit", checkMemoryLimit},
	{"images", checkImages},
	{"topology-spread", checkTopologySpread},
	{"labels", checkLabels},
	{"dependencies-reachable", checkDependencies},
	{"metrics-scrapable", checkMetricsScrapable},
	{"hooks-config", checkHooksConfig},
	{"hook-routes", checkHookRoutes},
	{"hook-backend-authz", checkHookBackendAuthz},
	{"inbox-workers", checkInboxWorkers},
}

// TestInvariants checks every invariant on every overlay.
func TestInvariants(t *testing.T) {
	for _, overlay := range overlayNames(t) {
		b := loadBundle(t, overlay)
		for _, inv := range invariants {
			t.Run(overlay+"/"+inv.name, func(t *testing.T) {
				if err := inv.check(b); err != nil {
					t.Error(err)
				}
			})
		}
	}
}
