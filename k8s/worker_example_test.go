package k8s

import (
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// workerUsage reads the reference worker's (examples/worker) flags and the variables it reads
// from its -h.
var (
	workerFlag = regexp.MustCompile(`(?m)^\s+-([a-z][a-z0-9-]*)\b`)
	workerEnv  = regexp.MustCompile(`env (WSG_[A-Z0-9_]+)`)
)

// TestWorkerDeploymentMatchesExample: the inbox worker Deployment passes the reference worker
// only flags it has and variables it reads, so the example runs as shipped with
// examples/worker's image. Broken copies are shown failing.
func TestWorkerDeploymentMatchesExample(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: builds examples/worker") // as the gateway's build does in gatewaytest.Binary
	}
	bin := filepath.Join(t.TempDir(), "worker")
	if out, err := exec.Command("go", "build", "-o", bin, "../examples/worker").CombinedOutput(); err != nil {
		t.Fatalf("go build examples/worker: %v\n%s", err, out)
	}
	out, _ := exec.Command(bin, "-h").CombinedOutput() // the usage is what counts, not -h's exit status
	var flags, vars []string
	for _, m := range workerFlag.FindAllStringSubmatch(string(out), -1) {
		flags = append(flags, m[1])
	}
	for _, m := range workerEnv.FindAllStringSubmatch(string(out), -1) {
		vars = append(vars, m[1])
	}
	if !slices.Contains(flags, "topic") || !slices.Contains(vars, "WSG_REDIS_URL") {
		t.Fatalf("examples/worker -h lists flags %v and variables %v; has its format changed?\n%s", flags, vars, out)
	}
	worker := func(t *testing.T) *corev1.Container {
		d := loadBundle(t, inboxOverlay).deployment("orders-worker")
		if d == nil {
			t.Fatal("no Deployment orders-worker")
		}
		return &d.Spec.Template.Spec.Containers[0]
	}
	if err := workerInvocationProblems(worker(t), flags, vars); err != nil {
		t.Fatal(err)
	}
	broken := map[string]func(c *corev1.Container){
		"a flag the worker does not have": func(c *corev1.Container) { c.Args = append(c.Args, "--topics=orders") },
		"a variable the worker does not read": func(c *corev1.Container) {
			c.Env = append(c.Env, corev1.EnvVar{Name: "WSG_REDIS", Value: "redis://redis:6379"})
		},
	}
	for name, breakIt := range broken {
		t.Run("broken/"+name, func(t *testing.T) {
			c := worker(t)
			breakIt(c)
			if err := workerInvocationProblems(c, flags, vars); err == nil {
				t.Fatal("passes on the broken copy")
			} else {
				t.Logf("rejected as expected: %v", err)
			}
		})
	}
}

// workerInvocationProblems: every argument is --<flag>=<value> of a flag the worker has, and
// every WSG_ variable one it reads.
func workerInvocationProblems(c *corev1.Container, flags, vars []string) error {
	var errs []error
	for _, a := range c.Args {
		name, _, _ := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || !slices.Contains(flags, name) {
			errs = append(errs, fmt.Errorf("argument %q: examples/worker has no flag %q (it has %v)", a, name, flags))
		}
	}
	for _, e := range c.Env {
		if strings.HasPrefix(e.Name, "WSG_") && !slices.Contains(vars, e.Name) {
			errs = append(errs, fmt.Errorf("variable %s: examples/worker reads only %v", e.Name, vars))
		}
	}
	return errors.Join(errs...)
}
