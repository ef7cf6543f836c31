//go:build unix && !linux

package runtimeapi

import "syscall"

// sysProcAttr puts the handler in its own process group, so that kill also
// reaches its descendants.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
