//go:build race

package k8s

// raceEnabled: the tests run with -race, so the gateway binary they build uses it too and
// reuses the packages the test run compiled.
const raceEnabled = true
