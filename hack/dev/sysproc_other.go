//go:build !unix

package main

import (
	"os"
	"syscall"
)

// sysProcAttr has nothing to set outside Unix.
func sysProcAttr() *syscall.SysProcAttr { return nil }

// terminate kills p: there is no SIGTERM outside Unix.
func terminate(p *os.Process) error { return p.Kill() }
