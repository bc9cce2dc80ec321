// Package redistest starts real redis-server and redis-sentinel processes on
// free ports for tests, and stops them when the test ends: a single server
// (Start), a master with a replica and three sentinels (StartSentinel), and a
// three-master cluster (StartCluster).
//
// It is for tests and load tools only (Run and Close serve a command, such
// as wsbench -suite cluster, that has no testing.TB). Production code must
// not import it; a test in this package checks that no other non-test file
// of the module does.
//
// A missing binary fails the test with an install hint and never skips it:
// a Redis test that silently skips is a test that never runs. `make deps`
// installs what is needed (redis-server, redis-sentinel, redis-cli). Only
// `go test -short` skips them: every start function skips under -short, so
// that -short is a fast loop with no external processes.
//
// Every process is stopped by its own PID only, and every wait is bounded;
// a failure message carries the tail of the process's output.
package redistest
