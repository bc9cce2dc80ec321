package gatewaytest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// version is what the Makefile stamps: git describe, or "dev" outside a
// git checkout.
func version(root string) string {
	cmd := exec.Command("git", "describe", "--tags", "--always", "--dirty")
	cmd.Dir = root
	out, err := cmd.Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return "dev"
}

// ModuleRoot returns the directory of the go.mod of the module being
// tested, as `go env GOMOD` reports it from the working directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", fmt.Errorf("go env GOMOD: %q, %v: run the tests inside the module", gomod, err)
	}
	return filepath.Dir(gomod), nil
}
