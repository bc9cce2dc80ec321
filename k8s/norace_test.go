//go:build !race

package k8s

// raceEnabled: see race_test.go.
const raceEnabled = false
