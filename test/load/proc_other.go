//go:build !linux

package main

import (
	"errors"
	"syscall"
	"time"
)

var errNoProc = errors.New("process statistics need Linux's /proc")

func childAttr() *syscall.SysProcAttr { return nil }

func pidCPU(int) (time.Duration, error) { return 0, errNoProc }

func pidMemory(int) (int64, int64, error) { return 0, 0, errNoProc }

func pidFileRSS(int) (int64, error) { return 0, errNoProc }

func childNamed(string) int { return 0 }

func machine() (string, string) { return "", "" }
