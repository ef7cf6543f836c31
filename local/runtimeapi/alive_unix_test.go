//go:build unix

package runtimeapi_test

import "syscall"

// processAlive reports whether pid exists; ok is false if unknown.
func processAlive(pid int) (alive, ok bool) {
	err := syscall.Kill(pid, 0)
	return err == nil || err == syscall.EPERM, true
}
