package k8s

import (
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	securityv1beta1 "istio.io/api/security/v1beta1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/kustomize/api/hasher"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
	"sigs.k8s.io/yaml"
)

// hooksVariable is the gateway's --hooks-config as an environment variable (CONTRACT §6).
const hooksVariable = "WSG_HOOKS_CONFIG"

// defaultHookTimeout and maxHookTimeout are CONTRACT §6's per-call default and ceiling.
const (
	defaultHookTimeout = time.Second
	maxHookTimeout     = 30 * time.Second
)

// hooksFile is the part of the hooks configuration (CONTRACT §6) that the mesh must agree with:
// where each hook goes and how long the gateway waits for it. The binary itself checks the whole
// file (TestConfigMatchesBinary); this decoding is strict so a misspelled key is not read as
// absent here.
type hooksFile struct {
	Endpoints map[string]struct {
		URL     string `json:"url"`
		Timeout string `json:"timeout"`
	} `json:"endpoints"`
	Connect *struct {
		hookRef
		Mode           string   `json:"mode"`
		ForwardHeaders []string `json:"forward_headers"`
	} `json:"connect"`
	Namespaces map[string]struct {
		Subscribe *hookRef `json:"subscribe"`
		Publish   *hookRef `json:"publish"`
	} `json:"namespaces"`
	RPC map[string]hookRef `json:"rpc"`
}

// hookRef is one hook's endpoint and its own settings.
type hookRef struct {
	Endpoint string `json:"endpoint"`
	Timeout  string `json:"timeout"`
	OnError  string `json:"on_error"`
}

// hookCall is one configured hook as the gateway calls it: POST <url>/<hook>.
type hookCall struct {
	what    string // "publish in namespace chat"
	url     *url.URL
	timeout time.Duration
}

// calls resolves every configured hook to its URL and effective timeout (the hook's own, else
// its endpoint's, else the default).
func (f *hooksFile) calls() ([]hookCall, error) {
	var calls []hookCall
	var errs []error
	add := func(what, hook string, ref *hookRef) {
		if ref == nil {
			return
		}
		ep, ok := f.Endpoints[ref.Endpoint]
		if !ok {
			errs = append(errs, fmt.Errorf("%s: endpoint %q is not among the endpoints", what, ref.Endpoint))
			return
		}
		u, err := url.Parse(ep.URL)
		if err != nil || u.Hostname() == "" || (u.Scheme != "http" && u.Scheme != "https") {
			errs = append(errs, fmt.Errorf("endpoint %s: url %q is not an http(s) URL", ref.Endpoint, ep.URL))
			return
		}
		timeout := defaultHookTimeout
		for _, s := range []string{ep.Timeout, ref.Timeout} {
			if s == "" {
				continue
			}
			d, err := time.ParseDuration(s)
			if err != nil || d <= 0 || d > maxHookTimeout {
				errs = append(errs, fmt.Errorf("%s: timeout %q: want a duration above 0 and at most %s", what, s, maxHookTimeout))
				return
			}
			timeout = d
		}
		u = u.JoinPath(hook)
		calls = append(calls, hookCall{what, u, timeout})
	}
	if f.Connect != nil {
		add("connect", "connect", &f.Connect.hookRef)
	}
	for _, ns := range sortedKeys(f.Namespaces) {
		add("subscribe in namespace "+ns, "subscribe", f.Namespaces[ns].Subscribe)
		add("publish in namespace "+ns, "publish", f.Namespaces[ns].Publish)
	}
	for _, ns := range sortedKeys(f.RPC) {
		ref := f.RPC[ns]
		add("rpc "+ns+":*", "rpc", &ref)
	}
	return calls, errors.Join(errs...)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// hooksPath is where the gateway container reads its hooks configuration: --hooks-config in its
// arguments, else WSG_HOOKS_CONFIG; "" when it calls no hooks.
func (b *bundle) hooksPath() (string, error) {
	c := b.gatewayContainer()
	args := append(slices.Clone(c.Command), c.Args...)
	for i, a := range args {
		if v, ok := strings.CutPrefix(a, "--hooks-config="); ok {
			return v, nil
		}
		if a == "--hooks-config" && i+1 < len(args) {
			return args[i+1], nil
		}
	}
	env, external, err := b.gatewayEnv()
	if err != nil {
		return "", err
	}
	if _, ok := env[hooksVariable]; !ok {
		return "", nil
	}
	return setting(env, external, hooksVariable)
}

// mountedConfigMap finds the ConfigMap that holds the file at path in the gateway container,
// and the file's key in it.
func (b *bundle) mountedConfigMap(file string) (*corev1.ConfigMap, string, error) {
	c, pod := b.gatewayContainer(), &b.gateway().Spec.Template.Spec
	for _, m := range c.VolumeMounts {
		rel, ok := strings.CutPrefix(file, strings.TrimSuffix(m.MountPath, "/")+"/")
		if m.SubPath != "" || !ok || strings.Contains(rel, "/") {
			continue
		}
		i := slices.IndexFunc(pod.Volumes, func(v corev1.Volume) bool { return v.Name == m.Name })
		if i < 0 || pod.Volumes[i].ConfigMap == nil {
			return nil, "", fmt.Errorf("%s is on volume %s, which is no ConfigMap", file, m.Name)
		}
		src := pod.Volumes[i].ConfigMap
		key := rel
		for _, item := range src.Items {
			if item.Path == rel {
				key = item.Key
			}
		}
		cm := b.configMap(src.Name)
		if cm == nil {
			return nil, "", fmt.Errorf("%s is in ConfigMap %s, which is not in the bundle", file, src.Name)
		}
		if _, ok := cm.Data[key]; !ok {
			return nil, "", fmt.Errorf("%s: ConfigMap %s has no key %s", file, cm.Name, key)
		}
		return cm, key, nil
	}
	return nil, "", fmt.Errorf("%s is on no volume of the gateway container: the gateway cannot read it", file)
}

// hooks returns the gateway's hooks configuration and its calls; nil when it has none.
func (b *bundle) hooks() (*hooksFile, []hookCall, error) {
	file, err := b.hooksPath()
	if err != nil || file == "" {
		return nil, nil, err
	}
	cm, key, err := b.mountedConfigMap(file)
	if err != nil {
		return nil, nil, err
	}
	var f hooksFile
	if err := yaml.UnmarshalStrict([]byte(cm.Data[key]), &f); err != nil {
		return nil, nil, fmt.Errorf("%s (ConfigMap %s): %w", file, cm.Name, err)
	}
	calls, err := f.calls()
	if err != nil {
		return nil, nil, fmt.Errorf("%s (ConfigMap %s): %w", file, cm.Name, err)
	}
	return &f, calls, nil
}

// hookDependencies are the backends the hooks call, one per host and port.
func (b *bundle) hookDependencies() ([]dependency, error) {
	_, calls, err := b.hooks()
	if err != nil {
		return nil, err
	}
	var deps []dependency
	for _, c := range calls {
		port := c.url.Port()
		if port == "" {
			port = map[string]string{"http": "80", "https": "443"}[c.url.Scheme]
		}
		n, _ := strconv.Atoi(port)
		d := dependency{what: "the hook backend " + c.url.Host, host: c.url.Hostname(), ns: hostNamespace(c.url.Hostname(), b.namespace),
			port: int32(n), protocol: corev1.ProtocolTCP, app: true}
		if !slices.Contains(deps, d) {
			deps = append(deps, d)
		}
	}
	return deps, nil
}

// isHookHost reports whether a mesh host (as written in an object of namespace ns) is the
// host of a hook endpoint.
func (b *bundle) isHookHost(host, ns string) bool {
	deps, err := b.hookDependencies()
	if err != nil {
		return false
	}
	return slices.ContainsFunc(deps, func(d dependency) bool { return sameHost(host, ns, d.host, b.namespace) })
}

// sameHost reports whether two cluster DNS names, each resolved in its own namespace, name the
// same Service.
func sameHost(a, nsA, b, nsB string) bool {
	full := func(h, ns string) string {
		h = strings.TrimSuffix(strings.TrimSuffix(h, ".cluster.local"), ".svc")
		if !strings.Contains(h, ".") {
			h += "." + ns
		}
		return h
	}
	return full(a, nsA) == full(b, nsB)
}

// checkHooksConfig: when the gateway calls hooks, the file it reads is mounted from a
// ConfigMap in the bundle that kustomize generated with a hash of its content in its name (a
// changed file then rolls the pods; the gateway reads it only at startup), and every hook
// names a defined endpoint with a valid timeout.
func checkHooksConfig(b *bundle) error {
	file, err := b.hooksPath()
	if err != nil || file == "" {
		return err
	}
	cm, _, err := b.mountedConfigMap(file)
	if err != nil {
		return err
	}
	if err := hashSuffixProblem(cm); err != nil {
		return err
	}
	_, _, err = b.hooks()
	return err
}

// hashSuffixProblem checks that a ConfigMap's name ends with kustomize's hash of its content.
func hashSuffixProblem(cm *corev1.ConfigMap) error {
	i := strings.LastIndex(cm.Name, "-")
	if i < 0 {
		return fmt.Errorf("ConfigMap %s has no content hash in its name: a changed file would not roll the pods", cm.Name)
	}
	h, err := kustomizeHash(cm.Name[:i], cm.Data)
	if err != nil {
		return err
	}
	if cm.Name[i+1:] != h {
		return fmt.Errorf("ConfigMap %s: the name does not end with the hash of its content (%s): a changed file would not roll the pods; let kustomize's configMapGenerator name it", cm.Name, h)
	}
	return nil
}

// kustomizeHash is the suffix kustomize's configMapGenerator gives a ConfigMap called name.
func kustomizeHash(name string, data map[string]string) (string, error) {
	d := map[string]any{}
	for k, v := range data {
		d[k] = v
	}
	node, err := kyaml.FromMap(map[string]any{"apiVersion": "v1", "kind": "ConfigMap",
		"metadata": map[string]any{"name": name}, "data": d})
	if err != nil {
		return "", err
	}
	return (&hasher.Hasher{}).Hash(node)
}

// checkHookRoutes: every hook host has a VirtualService for the gateway's calls whose routes
// time out no sooner than the hooks on that host (the gateway's timeout decides, and the client
// gets the configured on_error) and retry only failures before the request left (never Istio's
// default, which would re-run a POST hook that answered 503), and a DestinationRule whose
// connect timeout leaves the shortest hook time to retry in.
func checkHookRoutes(b *bundle) error {
	deps, err := b.hookDependencies()
	if err != nil {
		return err
	}
	_, calls, _ := b.hooks()
	var errs []error
	for _, d := range deps {
		var longest, shortest time.Duration
		for _, c := range calls {
			if c.url.Hostname() == d.host {
				longest = max(longest, c.timeout)
				if shortest == 0 || c.timeout < shortest {
					shortest = c.timeout
				}
			}
		}
		errs = append(errs, b.hookRouteProblems(d, longest)...)
		errs = append(errs, b.hookDestinationProblems(d, shortest)...)
	}
	return errors.Join(errs...)
}

// hookRouteProblems checks the VirtualServices that route the gateway's calls to d.
func (b *bundle) hookRouteProblems(d dependency, longest time.Duration) []error {
	var errs []error
	found := false
	for _, vs := range b.virtualServices {
		if vs.Namespace != b.namespace || !exported(vs.Spec.ExportTo, b.namespace, vs.Namespace) ||
			!slices.ContainsFunc(vs.Spec.Hosts, func(h string) bool { return sameHost(h, vs.Namespace, d.host, b.namespace) }) {
			continue
		}
		found = true
		for i, r := range vs.Spec.Http {
			where := fmt.Sprintf("VirtualService %s, route %d (%q) to the hook backend %s", vs.Name, i, r.Name, d.host)
			switch {
			case r.Timeout == nil:
				errs = append(errs, fmt.Errorf("%s: no timeout; set one of at least the longest hook timeout, %s", where, longest))
			case r.Timeout.AsDuration() < longest:
				errs = append(errs, fmt.Errorf("%s: timeout %s is below the hook timeout %s: Envoy would answer 504 before the gateway's own timeout", where, r.Timeout.AsDuration(), longest))
			}
			rt := r.Retries
			switch {
			case rt == nil:
				errs = append(errs, fmt.Errorf("%s: no retries: Istio's default policy then retries a 503, running a POST hook again; set retryOn to some of %v", where, preUpgradeRetryOn))
			case rt.Attempts == 0:
			case rt.PerTryTimeout != nil:
				errs = append(errs, fmt.Errorf("%s: perTryTimeout %s cuts an attempt short of the hook timeout; leave it out", where, rt.PerTryTimeout.AsDuration()))
			case strings.TrimSpace(rt.RetryOn) == "":
				errs = append(errs, fmt.Errorf("%s: retries without retryOn get Istio's default conditions, which re-run a POST hook; set retryOn to some of %v", where, preUpgradeRetryOn))
			}
			if rt != nil && rt.Attempts > 0 {
				for _, cond := range strings.Split(rt.RetryOn, ",") {
					if cond = strings.TrimSpace(cond); cond != "" && !slices.Contains(preUpgradeRetryOn, cond) {
						errs = append(errs, fmt.Errorf("%s: retryOn %q may retry a hook the backend already ran; only %v are safe", where, cond, preUpgradeRetryOn))
					}
				}
			}
		}
	}
	if !found {
		errs = append(errs, fmt.Errorf("no VirtualService in namespace %s routes the gateway's calls to the hook backend %s: Istio's default retries (a 503, twice) would re-run POST hooks", b.namespace, d.host))
	}
	return errs
}

// hookDestinationProblems checks the DestinationRule for the gateway's calls to d.
func (b *bundle) hookDestinationProblems(d dependency, shortest time.Duration) []error {
	for _, dr := range b.destinationRules {
		if dr.Namespace != b.namespace || !exported(dr.Spec.ExportTo, b.namespace, dr.Namespace) || !sameHost(dr.Spec.Host, dr.Namespace, d.host, b.namespace) {
			continue
		}
		connect := 10 * time.Second // Istio's default
		if ct := dr.Spec.GetTrafficPolicy().GetConnectionPool().GetTcp().GetConnectTimeout(); ct != nil {
			connect = ct.AsDuration()
		}
		if connect >= shortest {
			return []error{fmt.Errorf("DestinationRule %s: connectTimeout %s is not below the shortest hook timeout %s on %s: a connect failure could never be retried in time", dr.Name, connect, shortest, d.host)}
		}
		return nil
	}
	return []error{fmt.Errorf("no DestinationRule in namespace %s for the hook backend %s", b.namespace, d.host)}
}

// exported reports whether an Istio object of namespace own, with exportTo, applies to
// namespace ns (no exportTo: every namespace).
func exported(exportTo []string, ns, own string) bool {
	if len(exportTo) == 0 {
		return true
	}
	return slices.ContainsFunc(exportTo, func(e string) bool { return e == "*" || e == ns || (e == "." && ns == own) })
}

// gatewayPrincipal is the gateway pods' mesh identity, from their ServiceAccount.
func (b *bundle) gatewayPrincipal() (string, error) {
	sa := b.gateway().Spec.Template.Spec.ServiceAccountName
	if sa == "" {
		sa = "default"
	}
	if !slices.ContainsFunc(b.objects, func(o object) bool { return o.kind == "ServiceAccount" && o.GetName() == sa }) {
		return "", fmt.Errorf("the gateway's ServiceAccount %s is not in the bundle", sa)
	}
	return "cluster.local/ns/" + b.namespace + "/sa/" + sa, nil
}

// checkHookBackendAuthz: the bundle's AuthorizationPolicy for each hook backend's namespace
// admits only the gateway's identity to every hook path: an ALLOW rule naming that principal
// alone, or a DENY rule for every other principal (which also catches plain text).
func checkHookBackendAuthz(b *bundle) error {
	_, calls, err := b.hooks()
	if err != nil {
		return err
	}
	principal, err := b.gatewayPrincipal()
	if err != nil && len(calls) > 0 {
		return err
	}
	var errs []error
	for _, c := range calls {
		ns := hostNamespace(c.url.Hostname(), b.namespace)
		guarded := false
		for _, p := range b.backendAuthz {
			if p.Namespace != ns {
				continue
			}
			for _, r := range p.Spec.Rules {
				if ruleGuardsHook(p.Spec.Action, r, c.url, principal) {
					guarded = true
				}
			}
		}
		if !guarded {
			errs = append(errs, fmt.Errorf("%s (%s): no AuthorizationPolicy in namespace %s admits only %s to %s", c.what, c.url, ns, principal, c.url.Path))
		}
	}
	return errors.Join(errs...)
}

// ruleGuardsHook reports whether one AuthorizationPolicy rule lets only principal reach the
// hook at u: an ALLOW rule whose one source names principal alone, or a DENY rule for every
// principal but that one; either unconditional and covering u's path (and port, when it names
// ports).
func ruleGuardsHook(action securityv1beta1.AuthorizationPolicy_Action, r *securityv1beta1.Rule, u *url.URL, principal string) bool {
	if len(r.From) != 1 || len(r.When) > 0 {
		return false
	}
	s := r.From[0].GetSource()
	if len(s.GetNamespaces())+len(s.GetNotNamespaces())+len(s.GetIpBlocks())+len(s.GetRequestPrincipals()) > 0 {
		return false
	}
	switch action {
	case securityv1beta1.AuthorizationPolicy_ALLOW:
		if !slices.Equal(s.GetPrincipals(), []string{principal}) || len(s.GetNotPrincipals()) > 0 {
			return false
		}
	case securityv1beta1.AuthorizationPolicy_DENY:
		if !slices.Equal(s.GetNotPrincipals(), []string{principal}) || len(s.GetPrincipals()) > 0 {
			return false
		}
	default:
		return false
	}
	for _, t := range r.To {
		op := t.GetOperation()
		if len(op.GetNotPaths())+len(op.GetNotMethods())+len(op.GetNotPorts())+len(op.GetHosts())+len(op.GetNotHosts()) > 0 {
			continue // narrower than every call to the hook
		}
		if methods := op.GetMethods(); len(methods) > 0 && !slices.Contains(methods, "POST") {
			continue
		}
		if ports := op.GetPorts(); len(ports) > 0 && !slices.Contains(ports, u.Port()) {
			continue
		}
		if slices.ContainsFunc(op.GetPaths(), func(p string) bool { return istioPathMatches(p, u.Path) }) {
			return true
		}
	}
	return false
}

// istioPathMatches matches a request path as an AuthorizationPolicy path does: exact, "*",
// a prefix ending in "*" or a suffix starting with "*".
func istioPathMatches(pattern, p string) bool {
	p = path.Clean(p)
	switch {
	case pattern == "*":
		return true
	case strings.HasSuffix(pattern, "*"):
		return strings.HasPrefix(p, strings.TrimSuffix(pattern, "*"))
	case strings.HasPrefix(pattern, "*"):
		return strings.HasSuffix(p, strings.TrimPrefix(pattern, "*"))
	}
	return pattern == p
}
