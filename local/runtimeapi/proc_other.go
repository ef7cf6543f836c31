//go:build !unix

package runtimeapi

import (
	"errors"
	"os"
	"syscall"
)

func sysProcAttr() *syscall.SysProcAttr { return nil }

func kill(p *os.Process) { _ = p.Kill() }

func terminate(*os.Process) error { return errors.New("SIGTERM not supported") }

// passthroughEnv lists the variables inherited from the current process
// without WithInheritEnv (Windows needs SYSTEMROOT for networking).
var passthroughEnv = []string{"PATH", "PATHEXT", "SYSTEMROOT", "SystemDrive", "windir", "COMSPEC", "TEMP", "TMP", "GOCOVERDIR"}
