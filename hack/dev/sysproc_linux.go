//go:build linux

package main

import (
	"os"
	"syscall"
)

// sysProcAttr puts the child in its own process group and has Linux send it
// SIGTERM should this program die first.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}

// terminate asks p to stop.
func terminate(p *os.Process) error { return p.Signal(syscall.SIGTERM) }
