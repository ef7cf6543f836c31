//go:build unix

package runtimeapi

import (
	"os"
	"syscall"
)

// kill sends SIGKILL to the handler's process group and to the process.
func kill(p *os.Process) {
	_ = syscall.Kill(-p.Pid, syscall.SIGKILL)
	_ = p.Kill()
}

// terminate sends SIGTERM to the handler's process group.
func terminate(p *os.Process) error {
	return syscall.Kill(-p.Pid, syscall.SIGTERM)
}

// passthroughEnv lists the variables inherited from the current process
// without WithInheritEnv.
var passthroughEnv = []string{"PATH", "TMPDIR", "GOCOVERDIR"}
