//go:build unix

package main

import (
	"fmt"
	"syscall"
)

// spareFiles are the descriptors the tool needs beyond its connections.
const spareFiles = 50

// checkOpenFiles fails when the open-file limit cannot hold conns
// connections. The Go runtime has already raised the soft limit to the hard
// one; a hard limit below what the run needs is a setup problem to report
// before any connection is opened, not 20,000 failed dials.
func checkOpenFiles(conns int) error {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return fmt.Errorf("read the open-file limit: %w", err)
	}
	if need := uint64(conns + spareFiles); lim.Cur < need {
		return fmt.Errorf("open-file limit %d is too low for %d connections (+%d spare): raise ulimit -Hn", lim.Cur, conns, spareFiles)
	}
	return nil
}
