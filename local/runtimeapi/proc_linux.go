package runtimeapi

import "syscall"

// sysProcAttr puts the handler in its own process group, so that kill also
// reaches its descendants, and has the kernel kill it if we die.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
