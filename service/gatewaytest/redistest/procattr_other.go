//go:build !linux

package redistest

import "syscall"

// sysProcAttr has nothing to add outside Linux, which lacks Pdeathsig: a test
// binary that dies there leaves its servers running.
func sysProcAttr() *syscall.SysProcAttr {
	return nil
}
