package gatewaytest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// mainPackage is the gateway's command. Built by import path, it builds
// from this module's tree and from a user's module that requires it alike.
const mainPackage = "github.com/wsgateway/wsgateway/service/cmd/wsgateway"

// buildTimeout bounds one go build of the gateway, cold cache included.
const buildTimeout = 5 * time.Minute

// BuildOptions says how to build the binary.
type BuildOptions struct {
	// Race builds with the race detector (and cgo, which it needs).
	// Without it the binary is built as `make build` builds it: static,
	// trimmed and stripped, as it runs in production.
	Race bool
}

// build is the outcome of one build, shared by every test of the binary.
type build struct {
	once sync.Once
	path string
	err  error
}

// builds holds one build per flavour for the life of the test binary.
var builds = map[bool]*build{false: {}, true: {}}

// Binary returns the path of the gateway (service/cmd/wsgateway) built with
// the Makefile's flags, building it at the first call of the test binary;
// later calls reuse it. Under -short it skips the test.
func Binary(t testing.TB, opts BuildOptions) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: builds and starts the gateway binary")
	}
	path, err := Build(opts)
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// Build is Binary for a program that is not a test (a load tool): it returns
// the error instead, and knows nothing of -short.
func Build(opts BuildOptions) (string, error) {
	b := builds[opts.Race]
	b.once.Do(func() { b.path, b.err = buildBinary(opts) })
	return b.path, b.err
}

// buildBinary runs go build from the module root.
func buildBinary(opts BuildOptions) (string, error) {
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	bin := binaryPath(root, opts)
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		return "", err
	}
	// Built beside its final name and renamed over it: a test binary of
	// another package may be running the previous build at this moment.
	tmp, err := os.CreateTemp(filepath.Dir(bin), "wsgateway-*.tmp")
	if err != nil {
		return "", err
	}
	tmp.Close()
	defer os.Remove(tmp.Name())
	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", buildArgs(tmp.Name(), version(root), opts)...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if opts.Race {
		cmd.Env = append(os.Environ(), "CGO_ENABLED=1")
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", mainPackage, err, out)
	}
	return bin, os.Rename(tmp.Name(), bin)
}

// binaryPath is one fixed place per checkout and flavour, so that test runs
// replace their binary instead of leaving a new one behind each time.
func binaryPath(root string, opts BuildOptions) string {
	flavour := "plain"
	if opts.Race {
		flavour = "race"
	}
	sum := sha256.Sum256([]byte(root))
	dir := fmt.Sprintf("wsgateway-gatewaytest-%x", sum[:6])
	return filepath.Join(os.TempDir(), dir, flavour, "wsgateway")
}

// buildArgs mirrors the Makefile's go_build (-trimpath, -ldflags "-s -w -X
// main.version=..."), plus -race when asked.
func buildArgs(bin, version string, opts BuildOptions) []string {
	args := []string{"build", "-trimpath", "-ldflags", "-s -w -X main.version=" + version, "-o", bin}
	if opts.Race {
		args = append(args, "-race")
	}
	return append(args, mainPackage)
}
