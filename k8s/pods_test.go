package k8s

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/wsgateway/wsgateway/loadtest/capacity"
)

// checkProbes: liveness and startup probe GET /healthz, readiness GET /readyz (the contract),
// on the port the gateway's admin listener uses.
func checkProbes(b *bundle) error {
	ports, err := b.ports()
	if err != nil {
		return err
	}
	c := b.gatewayContainer()
	var errs []error
	for _, p := range []struct {
		kind     string
		probe    *corev1.Probe
		path     string
		required bool
	}{
		{"livenessProbe", c.LivenessProbe, "/healthz", true},
		{"readinessProbe", c.ReadinessProbe, "/readyz", true},
		{"startupProbe", c.StartupProbe, "/healthz", false},
	} {
		switch {
		case p.probe == nil && p.required:
			errs = append(errs, fmt.Errorf("no %s", p.kind))
		case p.probe == nil:
		case p.probe.HTTPGet == nil:
			errs = append(errs, fmt.Errorf("%s: want httpGet %s on the admin port", p.kind, p.path))
		default:
			get := p.probe.HTTPGet
			if get.Path != p.path {
				errs = append(errs, fmt.Errorf("%s: path %q, want %q", p.kind, get.Path, p.path))
			}
			if n, ok := containerPort(c, get.Port); !ok || n != ports.admin {
				errs = append(errs, fmt.Errorf("%s: port %s is not the admin port %d (WSG_ADMIN_LISTEN)", p.kind, get.Port.String(), ports.admin))
			}
			if get.Scheme != "" && get.Scheme != corev1.URISchemeHTTP {
				errs = append(errs, fmt.Errorf("%s: scheme %s; the admin port speaks HTTP", p.kind, get.Scheme))
			}
		}
	}
	return errors.Join(errs...)
}

// containers lists every container of every workload, with where it is.
func (b *bundle) containers() (list []struct {
	where string
	pod   *corev1.PodSpec
	c     *corev1.Container
}) {
	for _, d := range b.deployments {
		spec := &d.Spec.Template.Spec
		for _, cs := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
			for i := range cs {
				list = append(list, struct {
					where string
					pod   *corev1.PodSpec
					c     *corev1.Container
				}{fmt.Sprintf("Deployment %s, container %s", d.Name, cs[i].Name), spec, &cs[i]})
			}
		}
	}
	return list
}

// checkSecurityContext: every container runs as a numeric non-root user, with a read-only root
// file system, no privilege escalation, no capabilities and the runtime's seccomp profile; no
// pod mounts a service account token it does not use.
func checkSecurityContext(b *bundle) error {
	var errs []error
	for _, x := range b.containers() {
		for _, p := range securityProblems(x.pod.SecurityContext, x.c.SecurityContext) {
			errs = append(errs, fmt.Errorf("%s: %s", x.where, p))
		}
	}
	for _, d := range b.deployments {
		if a := d.Spec.Template.Spec.AutomountServiceAccountToken; a == nil || *a {
			errs = append(errs, fmt.Errorf("Deployment %s: set automountServiceAccountToken: false; no container talks to the Kubernetes API", d.Name))
		}
	}
	return errors.Join(errs...)
}

// securityProblems lists what a container's security context (over its pod's) lacks.
func securityProblems(psc *corev1.PodSecurityContext, sc *corev1.SecurityContext) []string {
	if psc == nil {
		psc = &corev1.PodSecurityContext{}
	}
	if sc == nil {
		sc = &corev1.SecurityContext{}
	}
	var problems []string
	if !isTrue(first(sc.RunAsNonRoot, psc.RunAsNonRoot)) {
		problems = append(problems, "runAsNonRoot is not true")
	}
	if uid := first(sc.RunAsUser, psc.RunAsUser); uid == nil || *uid == 0 {
		problems = append(problems, "no numeric non-root runAsUser (the kubelet cannot check runAsNonRoot against a named image user)")
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		problems = append(problems, "allowPrivilegeEscalation is not false")
	}
	if isTrue(sc.Privileged) {
		problems = append(problems, "privileged")
	}
	if !isTrue(sc.ReadOnlyRootFilesystem) {
		problems = append(problems, "readOnlyRootFilesystem is not true")
	}
	if sc.Capabilities == nil || !slices.Contains(sc.Capabilities.Drop, "ALL") || len(sc.Capabilities.Add) > 0 {
		problems = append(problems, "capabilities must drop ALL and add none")
	}
	if s := first(sc.SeccompProfile, psc.SeccompProfile); s == nil || s.Type != corev1.SeccompProfileTypeRuntimeDefault {
		problems = append(problems, "seccompProfile is not RuntimeDefault")
	}
	return problems
}

// first returns the first non-nil pointer.
func first[T any](ps ...*T) *T {
	for _, p := range ps {
		if p != nil {
			return p
		}
	}
	return nil
}

// isTrue reports whether an optional bool is set and true.
func isTrue(p *bool) bool { return p != nil && *p }

// checkResources: every container requests CPU and memory and is limited in both, with
// requests no larger than limits.
func checkResources(b *bundle) error {
	var errs []error
	for _, x := range b.containers() {
		r := x.c.Resources
		for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
			req, hasReq := r.Requests[name]
			lim, hasLim := r.Limits[name]
			switch {
			case !hasReq || !hasLim:
				errs = append(errs, fmt.Errorf("%s: %s needs both a request and a limit", x.where, name))
			case req.Cmp(lim) > 0:
				errs = append(errs, fmt.Errorf("%s: %s request %s above its limit %s", x.where, name, req.String(), lim.String()))
			}
		}
	}
	return errors.Join(errs...)
}

// checkImages: every image is pinned to a tag other than latest, or to a digest, so a restart
// never runs something else.
func checkImages(b *bundle) error {
	var errs []error
	for _, x := range b.containers() {
		image := x.c.Image
		if _, digest, ok := strings.Cut(image, "@"); ok && strings.HasPrefix(digest, "sha256:") {
			continue
		}
		name := image[strings.LastIndex(image, "/")+1:]
		_, tag, ok := strings.Cut(name, ":")
		if !ok || tag == "" || tag == "latest" {
			errs = append(errs, fmt.Errorf("%s: image %q is not pinned: give it a version tag or a digest", x.where, image))
		}
	}
	return errors.Join(errs...)
}

// checkTopologySpread: the gateway's pods spread over zones and over hosts, with one rule per
// topology key, each selecting the gateway's own pods; a hard rule ignores cordoned and
// unreachable nodes, so that a zone can be drained or lost.
func checkTopologySpread(b *bundle) error {
	pod := b.gateway().Spec.Template
	count := map[string]int{}
	var errs []error
	for _, tsc := range pod.Spec.TopologySpreadConstraints {
		count[tsc.TopologyKey]++
		if !selects(tsc.LabelSelector, pod.Labels) {
			errs = append(errs, fmt.Errorf("topology spread on %s: labelSelector does not select the gateway's pods", tsc.TopologyKey))
		}
		hard := tsc.WhenUnsatisfiable == corev1.DoNotSchedule
		honors := tsc.NodeTaintsPolicy != nil && *tsc.NodeTaintsPolicy == corev1.NodeInclusionPolicyHonor
		if hard && (!honors || tsc.MinDomains != nil) {
			errs = append(errs, fmt.Errorf("hard topology spread on %s: set nodeTaintsPolicy: Honor and no minDomains, or draining a zone leaves new pods Pending", tsc.TopologyKey))
		}
	}
	for _, key := range []string{corev1.LabelTopologyZone, corev1.LabelHostname} {
		if count[key] != 1 {
			errs = append(errs, fmt.Errorf("%d topology spread rules on %s; want exactly one", count[key], key))
		}
	}
	return errors.Join(errs...)
}

// checkLabels: every object, and every pod template, carries app.kubernetes.io/name and
// app.kubernetes.io/part-of (STYLE.md rule 10).
func checkLabels(b *bundle) error {
	var errs []error
	need := func(what string, labels map[string]string) {
		for _, k := range []string{"app.kubernetes.io/name", "app.kubernetes.io/part-of"} {
			if labels[k] == "" {
				errs = append(errs, fmt.Errorf("%s: no label %s", what, k))
			}
		}
	}
	for _, o := range b.objects {
		need(o.kind+" "+o.GetName(), o.GetLabels())
	}
	for _, d := range b.deployments {
		need("pod template of Deployment "+d.Name, d.Spec.Template.Labels)
	}
	return errors.Join(errs...)
}

// checkMemoryLimit: GOMEMLIMIT is below the container's memory limit (so the collector works
// harder before the kernel kills), and holds WSG_MAX_CONNECTIONS connections.
func checkMemoryLimit(b *bundle) error {
	env, external, err := b.gatewayEnv()
	if err != nil {
		return err
	}
	raw, err := setting(env, external, "GOMEMLIMIT")
	if err != nil {
		return err
	}
	soft, err := parseGoMemLimit(raw)
	if err != nil {
		return err
	}
	maxConns, err := intSetting(env, external, "WSG_MAX_CONNECTIONS")
	if err != nil {
		return err
	}
	var errs []error
	limit, ok := b.gatewayContainer().Resources.Limits[corev1.ResourceMemory]
	if !ok {
		errs = append(errs, fmt.Errorf("no memory limit for GOMEMLIMIT to stay under"))
	} else if soft >= limit.Value() {
		errs = append(errs, fmt.Errorf("GOMEMLIMIT %s is not below the memory limit %s", raw, limit.String()))
	}
	// The memory budget of docs/operations.md ("Memory"), from loadtest/capacity.
	if need := maxConns*capacity.BytesPerConnection + capacity.BaseMemory; soft < need {
		errs = append(errs, fmt.Errorf("GOMEMLIMIT %s < WSG_MAX_CONNECTIONS %d x %d KiB + %d MiB = %d MiB", raw, maxConns,
			capacity.BytesPerConnection>>10, capacity.BaseMemory>>20, need>>20))
	}
	return errors.Join(errs...)
}

// parseGoMemLimit reads GOMEMLIMIT as the Go runtime does: bytes, or a number with a B, KiB,
// MiB, GiB or TiB suffix.
func parseGoMemLimit(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if n, ok := strings.CutSuffix(s, u.suffix); ok {
			num, shift = n, u.shift
			break
		}
	}
	var n int64
	if _, err := fmt.Sscan(num, &n); err != nil || n <= 0 || fmt.Sprint(n) != num {
		return 0, fmt.Errorf("GOMEMLIMIT=%q: want bytes or a number with B, KiB, MiB, GiB or TiB", s)
	}
	return n << shift, nil
}

// podsOf lists the Deployments whose pods a selector picks.
func (b *bundle) podsOf(sel func(labels map[string]string) bool) []*appsv1.Deployment {
	var out []*appsv1.Deployment
	for _, d := range b.deployments {
		if sel(d.Spec.Template.Labels) {
			out = append(out, d)
		}
	}
	return out
}
