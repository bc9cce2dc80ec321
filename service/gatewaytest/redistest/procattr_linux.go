package redistest

import "syscall"

// sysProcAttr makes the kernel kill a server when the test binary dies
// (a -timeout panic, say), so no server outlives the tests that started it.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
